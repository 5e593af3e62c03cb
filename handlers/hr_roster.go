package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"portal/app"
	"portal/app/roster"
)

// MaxRosterBytes is the largest roster file accepted (about 100,000 rows fit in 15 MB).
const MaxRosterBytes = 20 << 20

type rosterPage struct {
	Page
	Upload     *app.RosterUpload
	Summary    *app.ImportSummary
	Problems   []app.RosterProblem
	MoreErrors int
	// Columns describe the file's columns beside the upload form.
	Columns []roster.ColumnInfo
	// The preview of a saved upload (hr_roster_preview.go).
	PreviewPath string
	Cycle       *app.Cycle // the open cycle, whose invitations applying sends; nil if none
	Kinds       []string
	Counts      map[string]int
	Filter      app.RosterPreviewFilter
	Matching    int
	People      []previewPerson
	Pager       Pager
}

func (h *Handler) rosterForm(c *fiber.Ctx) error {
	pg := rosterPage{Page: h.page(c, "Import the roster"), Columns: roster.Columns()}
	pg.Nav = "hr"
	return h.render(c, fiber.StatusOK, "hr_roster", pg)
}

// maxShownProblems bounds the problems listed on the page; the count says how many more.
const maxShownProblems = 500

// rosterPreview checks an uploaded file and shows what applying it would do.
// Nothing changes until the HR user confirms.
func (h *Handler) rosterPreview(c *fiber.Ctx) error {
	ctx := c.UserContext()
	pg := rosterPage{Page: h.page(c, "Import the roster"), Columns: roster.Columns()}
	pg.Nav = "hr"
	fail := func(status int, msg string) error {
		// Every problem is in the file chosen, so the summary links to it.
		pg.Errors = formError("file", msg)
		return h.render(c, status, "hr_roster", pg)
	}
	file, bad, err := readUpload(c, "file", MaxRosterBytes, "Choose a CSV file to upload.",
		"The file is larger than 20 MB. Split it, or import it with the import-roster command.")
	if err != nil {
		return err
	}
	if bad != nil {
		return fail(bad.Status, bad.Message)
	}
	defer file.File.Close()
	// The file is kept with the upload until it is applied, so it is read
	// whole here (20 MB at most, and only from HR).
	content, err := io.ReadAll(file.File)
	if err != nil {
		return err
	}
	deactivate := c.FormValue("deactivate_missing") == "yes"
	existing, err := h.Roster.ActiveManagers(ctx)
	if err != nil {
		return err
	}
	rows, probs, err := roster.ParseRows(bytes.NewReader(content), existing)
	if err != nil {
		return err
	}
	if len(probs) == 0 {
		pg.Summary, err = h.Roster.ImportRoster(ctx, rows, app.ImportOptions{DeactivateMissing: deactivate, DryRun: true, FromWeb: true})
		if err != nil {
			return err
		}
		probs = pg.Summary.Problems
	}
	if len(probs) > 0 {
		pg.Problems = probs
		if len(probs) > maxShownProblems {
			pg.Problems, pg.MoreErrors = probs[:maxShownProblems], len(probs)-maxShownProblems
		}
		pg.Summary = nil
		return fail(fiber.StatusUnprocessableEntity, "The file has problems, so nothing was imported. Correct every line listed below and upload it again.")
	}
	sum := sha256.Sum256(content)
	actor := currentUser(c).ID
	pg.Upload = &app.RosterUpload{SHA256: hex.EncodeToString(sum[:]), Filename: utils.CopyString(file.Name),
		Content: content, DeactivateMissing: deactivate, UploadedBy: actor, Summary: pg.Summary}
	if err := h.Roster.SaveUpload(ctx, pg.Upload); err != nil {
		return err
	}
	pg.Title = "Preview of " + pg.Upload.Filename
	return h.showPreview(c, &pg)
}

// rosterApply applies a previewed file. The file is checked again against
// the roster as it is now, and applied in one transaction.
func (h *Handler) rosterApply(c *fiber.Ctx) error {
	ctx := c.UserContext()
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return app.Errorf(app.ENOTFOUND, "Upload not found.")
	}
	up, err := h.Roster.FindUpload(ctx, id)
	if err != nil {
		return err
	}
	actor := currentUser(c).ID
	if up.UploadedBy != actor || up.SHA256 != c.FormValue("sha256") {
		return app.Errorf(app.ENOTFOUND, "Upload not found.")
	}
	if up.AppliedAt != nil {
		h.setFlash(c, "That file was already imported.")
		return c.Redirect("/hr/roster", fiber.StatusSeeOther)
	}
	existing, err := h.Roster.ActiveManagers(ctx)
	if err != nil {
		return err
	}
	rows, probs, err := roster.ParseRows(bytes.NewReader(up.Content), existing)
	if err != nil {
		return err
	}
	if len(probs) > 0 {
		return app.Errorf(app.ECONFLICT, "The roster changed since the preview and the file now has problems. Upload it again to see them.")
	}
	// What is applied is what the preview showed, person by person: if
	// the roster changed since (another upload, an address approved), the
	// file would now do something else, and HR sees that first.
	if up.Summary != nil {
		now, err := h.Roster.ImportRoster(ctx, slices.Clone(rows), app.ImportOptions{DeactivateMissing: up.DeactivateMissing, DryRun: true, FromWeb: true})
		if err != nil {
			return err
		}
		if len(now.Problems) > 0 {
			return app.Errorf(app.ECONFLICT, "The roster changed since the preview and the file now has problems. Upload it again to see them.")
		}
		if now.PreviewSHA256 != up.Summary.PreviewSHA256 {
			return app.Errorf(app.ECONFLICT, "The roster changed since this preview, so the file would now change other things than the preview shows. Nothing was imported. Upload the file again to see what it would change now.")
		}
	}
	sum, err := h.Roster.ImportRoster(ctx, rows, app.ImportOptions{DeactivateMissing: up.DeactivateMissing, ActorID: &actor,
		Source: "roster upload " + up.Filename, FromWeb: true})
	if err = h.committed(c, err); err != nil { // a follow-up's failure after the import's commits is logged
		return err
	}
	if len(sum.Problems) > 0 {
		return app.Errorf(app.ECONFLICT, "The roster changed since the preview and the file now has problems. Upload it again to see them.")
	}
	if err := h.Roster.MarkUploadApplied(ctx, up.ID); err != nil {
		return err
	}
	msg := "Roster imported: " + strconv.Itoa(sum.Added) + " added, " + strconv.Itoa(sum.Updated) + " updated, " +
		strconv.Itoa(sum.Reactivated) + " reactivated, " + strconv.Itoa(sum.Deactivated) + " deactivated, " + strconv.Itoa(sum.Unchanged) + " unchanged."
	if sum.AddressChanges > 0 {
		msg += " " + strconv.Itoa(sum.AddressChanges) + " new e-mail addresses wait for a second person's approval."
	}
	switch {
	case sum.Invitations == 1:
		msg += " 1 invitation is being sent now."
	case sum.Invitations > 1:
		msg += " " + strconv.Itoa(sum.Invitations) + " invitations are being sent now."
	case sum.Added+sum.Reactivated > 0:
		if _, err := h.Cycles.CurrentCycle(ctx); app.ErrorCode(err) == app.ENOTFOUND {
			msg += " No cycle is open, so nobody was invited yet: new people are invited when a cycle opens."
		}
	}
	if sum.Invitations > 0 {
		h.KickMail()
	}
	h.setFlash(c, msg)
	return c.Redirect("/hr/roster", fiber.StatusSeeOther)
}

type addressChangesPage struct {
	Page
	Pending []*app.AddressChange
	Total   int // requests waiting in all; the page shows the oldest listCap
}

func (h *Handler) addressChangesData(c *fiber.Ctx) (*addressChangesPage, error) {
	pg := &addressChangesPage{Page: h.page(c, "Address changes")}
	pg.Nav = "hr"
	var err error
	pg.Pending, pg.Total, err = h.Identity.PendingAddressChanges(c.UserContext(), listCap)
	return pg, err
}

// addressChanges lists the changes of address that wait for a second person.
func (h *Handler) addressChanges(c *fiber.Ctx) error {
	pg, err := h.addressChangesData(c)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "hr_address_changes", pg)
}

// addressDecide approves or refuses changes of address. Whoever uploaded a
// change, and the person whose address it is, cannot decide it.
func (h *Handler) addressDecide(c *fiber.Ctx) error {
	var ids []int64
	badID := false
	for _, v := range c.Request().PostArgs().PeekMulti("id") {
		id, err := strconv.ParseInt(string(v), 10, 64)
		badID = badID || err != nil
		ids = append(ids, id)
	}
	decision := c.FormValue("decision")
	var err error
	switch {
	case badID || len(ids) == 0 || len(ids) > 10000:
		err = app.Errorf(app.EINVALID, "Choose an address change from the list.")
	case decision != "approve" && decision != "reject":
		err = app.Errorf(app.EINVALID, "Choose whether to approve or to refuse.")
	default:
		err = h.Identity.DecideAddressChanges(c.UserContext(), ids, decision == "approve", currentUser(c).ID)
	}
	switch app.ErrorCode(err) {
	case "":
	case app.EINVALID, app.ECONFLICT, app.EFORBIDDEN, app.ENOTFOUND:
		pg, perr := h.addressChangesData(c)
		if perr != nil {
			return perr
		}
		// The decisions are buttons in the list, with no input to mark:
		// the message links to the list and is shown above it.
		pg.Errors = formErrorsAt(err, "pending")
		return h.render(c, fiber.StatusUnprocessableEntity, "hr_address_changes", pg)
	default:
		return err
	}
	h.KickMail()
	if decision == "approve" {
		h.setFlash(c, strconv.Itoa(len(ids))+" address change(s) approved. Both addresses of each person have been told.")
	} else {
		h.setFlash(c, strconv.Itoa(len(ids))+" address change(s) refused. Both addresses of each person have been told.")
	}
	return c.Redirect("/hr/address-changes", fiber.StatusSeeOther)
}
