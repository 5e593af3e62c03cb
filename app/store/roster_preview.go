package store

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"portal/app"
)

// preview lists what the plan does to each person, for a dry run: the
// people it adds, changes, reactivates and deactivates, each with the
// fields that change. People whose only change is an address held for
// approval are listed as changed, with that address.
func (pl *importPlan) preview() []*app.RosterPreviewRow {
	out := make([]*app.RosterPreviewRow, 0, len(pl.inserts)+len(pl.updates)+len(pl.requests)+len(pl.deactivate))
	listed := make(map[*planned]*app.RosterPreviewRow, len(pl.updates))
	row := func(kind string, p *planned) *app.RosterPreviewRow {
		f := p.fields
		r := &app.RosterPreviewRow{Kind: kind, EmployeeNumber: f[app.FieldEmployeeNumber], FullName: f[app.FieldFullName],
			Agency: f[app.FieldAgency], Department: f[app.FieldDepartment], Changes: pl.shown(p.changes)}
		if p.newEmail != "" {
			r.NewEmail, r.OldEmail = p.newEmail, p.st.email()
		}
		listed[p] = r
		return r
	}
	for _, p := range pl.inserts {
		out = append(out, row(app.RosterAdded, p))
	}
	for _, p := range pl.updates {
		kind := app.RosterChanged
		if !p.st.active() {
			kind = app.RosterReactivated
		}
		out = append(out, row(kind, p))
	}
	for _, p := range pl.requests {
		if _, ok := listed[p]; !ok {
			out = append(out, row(app.RosterChanged, p))
		}
	}
	for _, st := range pl.deactivate {
		out = append(out, &app.RosterPreviewRow{Kind: app.RosterDeactivated, EmployeeNumber: st.number(),
			FullName: st.f[app.FieldFullName], Agency: st.f[app.FieldAgency], Department: st.f[app.FieldDepartment]})
	}
	// By kind in the order the preview offers them, then by name: a
	// reviewer reads one kind at a time, and finds people by name.
	rank := func(kind string) int { return slices.Index(app.RosterKinds, kind) }
	slices.SortStableFunc(out, func(a, b *app.RosterPreviewRow) int {
		return cmp.Or(cmp.Compare(rank(a.Kind), rank(b.Kind)), cmp.Compare(previewKey(a.FullName), previewKey(b.FullName)),
			cmp.Compare(a.EmployeeNumber, b.EmployeeNumber))
	})
	return out
}

// previewDigest is the SHA-256 of a preview's rows, in order.
func previewDigest(rows []*app.RosterPreviewRow) (string, error) {
	b, err := json.Marshal(rows)
	if err != nil {
		return "", fmt.Errorf("digest preview: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// shown is a person's changes as the preview shows them: without the
// active field (the kind of change says it), and a manager by name and
// number rather than a bare number.
func (pl *importPlan) shown(cs []app.FieldChange) []app.FieldChange {
	out := make([]app.FieldChange, 0, len(cs))
	for _, c := range cs {
		switch c.Field {
		case app.FieldActive:
			continue
		case app.FieldManager:
			c.Old, c.New = pl.managerName(c.Old, false), pl.managerName(c.New, true)
		}
		out = append(out, c)
	}
	return out
}

// managerName is "Name (number)" for an employee number, the name as the
// file writes it when fromFile (a new manager's) or as the roster holds
// it now; the number alone if neither knows it.
func (pl *importPlan) managerName(number string, fromFile bool) string {
	if number == "" {
		return ""
	}
	if r, ok := pl.inFile[number]; ok && fromFile {
		return r.FullName + " (" + number + ")"
	}
	if st, ok := pl.existing[number]; ok {
		return st.f[app.FieldFullName] + " (" + number + ")"
	}
	if r, ok := pl.inFile[number]; ok {
		return r.FullName + " (" + number + ")"
	}
	return number
}

// previewKey is the form the preview's search compares: case folded,
// without accents, so "levesque" finds Lévesque.
func previewKey(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(cases.Fold().String(s)) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// savePreview writes an upload's preview rows in the upload's transaction.
func savePreview(ctx context.Context, tx *sql.Tx, uploadID int64, rows []*app.RosterPreviewRow) error {
	ins, err := tx.PrepareContext(ctx, `INSERT INTO roster_upload_changes (upload_id, seq, kind, employee_number, full_name,
		agency, department, search_key, changes, new_email, old_email) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("prepare preview: %w", err)
	}
	defer ins.Close()
	for i, r := range rows {
		changes, err := encodeChanges(r.Changes)
		if err != nil {
			return fmt.Errorf("encode preview: %w", err)
		}
		if _, err := ins.ExecContext(ctx, uploadID, i, r.Kind, r.EmployeeNumber, r.FullName, r.Agency, r.Department,
			previewKey(r.EmployeeNumber+" "+r.FullName), changes, r.NewEmail, r.OldEmail); err != nil {
			return fmt.Errorf("save preview: %w", err)
		}
	}
	return nil
}

// FindPreview returns a page of a saved upload's preview and the number of
// people of each kind.
func (s *RosterService) FindPreview(ctx context.Context, f app.RosterPreviewFilter) (*app.RosterPreview, error) {
	if f.Kind != "" && !slices.Contains(app.RosterKinds, f.Kind) {
		return nil, app.Invalid("kind", "Unknown kind of change. Choose one from the list.")
	}
	tx, err := s.db.read.BeginTx(ctx, s.db.snapshot())
	if err != nil {
		return nil, fmt.Errorf("read preview: %w", err)
	}
	defer tx.Rollback()
	out := &app.RosterPreview{Counts: make(map[string]int, len(app.RosterKinds))}
	rows, err := tx.QueryContext(ctx, `SELECT kind, COUNT(*) FROM roster_upload_changes WHERE upload_id = ? GROUP BY kind`, f.UploadID)
	if err != nil {
		return nil, fmt.Errorf("count preview: %w", err)
	}
	for rows.Next() {
		var kind string
		var n int
		if err := rows.Scan(&kind, &n); err != nil {
			_ = rows.Close() // the scan's error is the one to report
			return nil, fmt.Errorf("count preview: %w", err)
		}
		out.Counts[kind] = n
	}
	_ = rows.Close() // rows.Err below reports what went wrong while reading
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count preview: %w", err)
	}

	where, args := "upload_id = ?", []any{f.UploadID}
	if f.Kind != "" {
		where += " AND kind = ?"
		args = append(args, f.Kind)
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		where += " AND instr(search_key, ?) > 0"
		args = append(args, previewKey(app.NormalizeName(q)))
	}
	// #nosec G202 -- where is built from constant fragments; values are bound parameters
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM roster_upload_changes WHERE `+where, args...).Scan(&out.Total); err != nil {
		return nil, fmt.Errorf("count preview: %w", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = noLimit
	}
	// #nosec G202 -- as above
	rows, err = tx.QueryContext(ctx, `SELECT kind, employee_number, full_name, agency, department, changes, new_email, old_email
		FROM roster_upload_changes WHERE `+where+` ORDER BY seq LIMIT ? OFFSET ?`, append(args, limit, f.Offset)...)
	if err != nil {
		return nil, fmt.Errorf("read preview: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r := &app.RosterPreviewRow{}
		var changes string
		if err := rows.Scan(&r.Kind, &r.EmployeeNumber, &r.FullName, &r.Agency, &r.Department, &changes, &r.NewEmail, &r.OldEmail); err != nil {
			return nil, fmt.Errorf("scan preview: %w", err)
		}
		var triples [][3]string
		if err := json.Unmarshal([]byte(changes), &triples); err != nil {
			return nil, fmt.Errorf("decode preview: %w", err)
		}
		for _, t := range triples {
			r.Changes = append(r.Changes, app.FieldChange{Field: t[0], Old: t[1], New: t[2]})
		}
		out.Rows = append(out.Rows, r)
	}
	return out, rows.Err()
}
