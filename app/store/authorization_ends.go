package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"portal/app"
)

// endedByRoster is one person whose authorizations a roster change ended.
type endedByRoster struct {
	employeeID     int64
	name, number   string
	agency, reason string
	newAgency      string
	firstEndID     int64
	accounts       []string
}

// endAuthorizationsAfterRoster ends, in the roster write's transaction,
// the running authorizations of the people ids whom the roster has just
// deactivated or moved out of the authorization's agency: an
// authorization_ends row each (actor NULL: the portal did it), an audit
// event, and a mail to the agency's supervisor naming the accounts whose
// password and second factor must now be changed. It returns the people
// whose authorizations it ended.
func (db *DB) endAuthorizationsAfterRoster(ctx context.Context, tx *sql.Tx, ids []any, now time.Time) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	today := app.Today(now, db.Location)
	type row struct {
		id, emp              int64
		agency, curAgency    string
		active               bool
		name, number, acctNm string
	}
	var found []row
	err := func() error {
		// #nosec G202 -- constant SQL fragments; every value is a bound parameter
		rows, err := tx.QueryContext(ctx, `SELECT pa.id, pa.employee_id, pa.agency, e.active, e.agency, e.full_name, e.employee_number,
			a.platform || ' ' || a.handle
			FROM poster_authorizations pa JOIN employees e ON e.id = pa.employee_id JOIN social_accounts a ON a.id = pa.account_id
			WHERE pa.employee_id IN (`+placeholders(len(ids))+`) AND (e.active = 0 OR e.agency <> pa.agency) AND `+activeAuthorization+`
			ORDER BY pa.employee_id, pa.agency, pa.id`, append(append([]any{}, ids...), today)...)
		if err != nil {
			return fmt.Errorf("find authorizations to end: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.emp, &r.agency, &r.active, &r.curAgency, &r.name, &r.number, &r.acctNm); err != nil {
				return fmt.Errorf("scan authorization to end: %w", err)
			}
			found = append(found, r)
		}
		return rows.Err()
	}()
	if err != nil {
		return nil, err
	}
	var people []*endedByRoster
	for _, r := range found {
		reason := app.EndTransferred
		if !r.active {
			reason = app.EndDeactivated
		}
		res, err := insert(ctx, tx, `INSERT INTO authorization_ends (authorization_id, reason, note, actor_id, at) VALUES (?, ?, '', NULL, ?)`,
			r.id, reason, formatTime(now))
		if err != nil {
			return nil, fmt.Errorf("end authorization %d: %w", r.id, err)
		}
		endID, err := res.LastInsertId()
		if err != nil {
			return nil, err
		}
		detail := fmt.Sprintf("%s: %s, authorization %d; the roster deactivated them", r.agency, r.acctNm, r.id)
		if reason == app.EndTransferred {
			detail = fmt.Sprintf("%s: %s, authorization %d; the roster moved them to %s", r.agency, r.acctNm, r.id, r.curAgency)
		}
		if err := db.appendAudit(ctx, tx, &app.AuditEvent{At: now, Action: "poster.authorization_ended",
			SubjectType: "employee", SubjectID: r.emp, Detail: detail}); err != nil {
			return nil, err
		}
		if n := len(people); n == 0 || people[n-1].employeeID != r.emp || people[n-1].agency != r.agency {
			people = append(people, &endedByRoster{employeeID: r.emp, name: r.name, number: r.number, agency: r.agency,
				reason: reason, newAgency: r.curAgency, firstEndID: endID})
		}
		p := people[len(people)-1]
		p.accounts = append(p.accounts, r.acctNm)
	}
	var out []int64
	for _, p := range people {
		if err := db.tellPasswordsToChange(ctx, tx, p, now); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1] != p.employeeID {
			out = append(out, p.employeeID)
		}
	}
	return out, nil
}

// recipient is someone a notice goes to.
type recipient struct {
	id          int64
	name, email string
}

// agencyContacts is who hears about an agency's posters: its Social Media
// Supervisor or, while it has none, every active HR user who sees the
// agency (HR with no agency limit, or limited to agencies that include
// it), so that the accounts are never left unsecured because no one was
// told. supervisor says which it is.
func agencyContacts(ctx context.Context, q querier, agency string) (out []recipient, supervisor bool, err error) {
	read := func(query string, args ...any) error {
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("find contacts of %s: %w", agency, err)
		}
		defer rows.Close()
		for rows.Next() {
			var r recipient
			if err := rows.Scan(&r.id, &r.name, &r.email); err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	}
	if err := read(`SELECT e.id, e.full_name, e.email FROM agency_supervisors s JOIN employees e ON e.id = s.employee_id AND e.active = 1
		WHERE s.agency = ?`, agency); err != nil {
		return nil, false, err
	}
	if len(out) > 0 {
		return out, true, nil
	}
	err = read(`SELECT e.id, e.full_name, e.email FROM employees e WHERE e.active = 1 AND (';' || e.roles || ';') LIKE '%;hr;%'
		AND (NOT EXISTS (SELECT 1 FROM hr_scopes h WHERE h.employee_id = e.id)
			OR EXISTS (SELECT 1 FROM hr_scopes h WHERE h.employee_id = e.id AND h.agency = ?))
		ORDER BY e.full_name, e.id`, agency)
	return out, false, err
}

// tellPasswordsToChange queues the notice of p's ended authorizations.
func (db *DB) tellPasswordsToChange(ctx context.Context, tx *sql.Tx, p *endedByRoster, now time.Time) error {
	to, supervisor, err := agencyContacts(ctx, tx, p.agency)
	if err != nil {
		return err
	}
	what := "was deactivated on the roster"
	if p.reason == app.EndTransferred {
		what = "moved to another agency on the roster (" + p.newAgency + ")"
	}
	why := "You receive this as the Social Media Supervisor of " + p.agency + "."
	if !supervisor {
		why = p.agency + " has no Social Media Supervisor in the portal, so its HR users receive this instead."
	}
	date := now.In(db.Location).Format("January 2, 2006")
	for _, r := range to {
		text := fmt.Sprintf("Hello %s,\n\n%s (employee %s) %s on %s, so the portal ended their authorization to post for %s on:\n\n  - %s\n\n"+
			"They may still be able to sign in to these accounts. Change the password of each, and its second factor "+
			"(the authenticator app, security key or phone number), today, and remove them from any shared password manager.\n\n"+
			"%s\n\nThe agency's authorized posters: {portal}/posters\n",
			r.name, p.name, p.number, what, date, p.agency, strings.Join(p.accounts, "\n  - "), why)
		if err := queueText(ctx, tx, fmt.Sprintf("poster-ended:%d:%d", p.firstEndID, r.id), app.MailPosterEnded, r.id, r.email, r.name,
			"Change the passwords: "+p.name+" no longer posts for "+p.agency, text, now); err != nil {
			return err
		}
	}
	return nil
}

// endingReminders queues, once each (dedupe key per authorization and
// recipient), a reminder to the poster and to the agency's contacts about
// every running authorization whose end date is within
// app.AuthEndingSoonN days of today. It returns how many it queued.
func endingReminders(ctx context.Context, tx *sql.Tx, today string, now time.Time) (int, error) {
	last, err := time.Parse(app.DateLayout, today)
	if err != nil {
		return 0, err
	}
	type ending struct {
		id             int64
		agency, endsOn string
		emp            recipient
		account        string
	}
	var all []ending
	err = func() error {
		rows, err := tx.QueryContext(ctx, `SELECT pa.id, pa.agency, pa.ends_on, e.id, e.full_name, e.email, a.platform || ' ' || a.handle
			FROM poster_authorizations pa JOIN employees e ON e.id = pa.employee_id AND e.active = 1 AND e.agency = pa.agency
			JOIN social_accounts a ON a.id = pa.account_id
			WHERE pa.ends_on <> '' AND pa.ends_on <= ? AND pa.starts_on <= pa.ends_on AND `+activeAuthorization+`
			ORDER BY pa.id`, last.AddDate(0, 0, app.AuthEndingSoonN).Format(app.DateLayout), today)
		if err != nil {
			return fmt.Errorf("find authorizations ending: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var x ending
			if err := rows.Scan(&x.id, &x.agency, &x.endsOn, &x.emp.id, &x.emp.name, &x.emp.email, &x.account); err != nil {
				return err
			}
			all = append(all, x)
		}
		return rows.Err()
	}()
	if err != nil {
		return 0, err
	}
	n := 0
	queue := func(key string, r recipient, subject, text string) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO outbox (dedupe_key, kind, employee_id, to_addr, to_name, subject, text_body,
			html_body, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, '', ?, ?) ON CONFLICT (dedupe_key) DO NOTHING`,
			key, app.MailPosterEnding, r.id, r.email, r.name, subject, text, formatTime(now), formatTime(now))
		if err != nil {
			return fmt.Errorf("queue ending reminder: %w", err)
		}
		k, err := res.RowsAffected()
		n += int(k)
		return err
	}
	for _, x := range all {
		ends := longDate(x.endsOn)
		if err := queue(fmt.Sprintf("poster-ending:%d:%d", x.id, x.emp.id), x.emp, "Your authorization to post on "+x.account+" ends "+ends,
			fmt.Sprintf("Hello %s,\n\nYour authorization to post for %s on %s ends on %s. After that day, do not post there. "+
				"If you still need it, ask your agency's Social Media Supervisor to authorize you again.\n\n{portal}/\n",
				x.emp.name, x.agency, x.account, ends)); err != nil {
			return 0, err
		}
		to, _, err := agencyContacts(ctx, tx, x.agency)
		if err != nil {
			return 0, err
		}
		for _, r := range to {
			if err := queue(fmt.Sprintf("poster-ending:%d:%d", x.id, r.id), r, x.emp.name+"'s authorization on "+x.account+" ends "+ends,
				fmt.Sprintf("Hello %s,\n\n%s's authorization to post for %s on %s ends on %s. Authorize them again if they still need it; "+
					"otherwise, once it ends, change the account's password and second factor if they knew them.\n\n{portal}/posters\n",
					r.name, x.emp.name, x.agency, x.account, ends)); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}
