package handlers

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"portal/app"
	"portal/app/content"
)

type versionsPage struct {
	Page
	Versions []*app.PolicyVersion
}

func (h *Handler) versionsIndex(c *fiber.Ctx) error {
	vs, err := h.Policies.FindVersions(c.UserContext())
	if err != nil {
		return err
	}
	pg := versionsPage{Page: h.page(c, "Policy versions"), Versions: vs}
	pg.Nav = "hr"
	return h.render(c, fiber.StatusOK, "hr_versions", pg)
}

// MaxBundleBytes bounds an uploaded policy-version ZIP.
const MaxBundleBytes = 16 << 20

// versionPublish publishes an uploaded version bundle (a ZIP of the folder
// layout under data/policies). Published versions never change.
func (h *Handler) versionPublish(c *fiber.Ctx) error {
	fail := func(status int, msg string) error {
		vs, err := h.Policies.FindVersions(c.UserContext())
		if err != nil {
			return err
		}
		// Every problem is about the one file chosen, so it links to that input.
		pg := versionsPage{Page: h.page(c, "Policy versions"), Versions: vs}
		pg.Nav, pg.Errors = "hr", formError("bundle", msg)
		return h.render(c, status, "hr_versions", pg)
	}
	file, bad, err := readUpload(c, "bundle", MaxBundleBytes, "Choose a ZIP file with the new version.", "The ZIP is larger than 16 MB.")
	if err != nil {
		return err
	}
	if bad != nil {
		return fail(bad.Status, bad.Message)
	}
	defer file.File.Close()
	v, err := content.LoadVersionZip(file.File, file.Size)
	if err != nil {
		if app.ErrorCode(err) == app.EINVALID {
			return fail(fiber.StatusUnprocessableEntity, app.ErrorMessage(err))
		}
		return err
	}
	actor := currentUser(c).ID
	v.PublishedBy = &actor
	if existing, err := h.Policies.FindVersionByCode(c.UserContext(), v.Code); err == nil {
		if existing.SHA256 == v.SHA256 {
			return fail(fiber.StatusConflict, "Version "+v.Code+" is already published with exactly this content.")
		}
	}
	if err := h.Policies.PublishVersion(c.UserContext(), v); err != nil {
		if app.ErrorCode(err) == app.ECONFLICT {
			return fail(fiber.StatusConflict, app.ErrorMessage(err))
		}
		return err
	}
	h.setFlash(c, "Version "+v.Code+" ("+v.Kind+") is published. Open a cycle with it, or move the current cycle to it.")
	return c.Redirect("/hr/versions/"+strconv.FormatInt(v.ID, 10), fiber.StatusSeeOther)
}

type versionPage struct {
	Page
	Version  *app.PolicyVersion
	Previous *app.PolicyVersion
	Changes  []content.Change
	// Documents are the official documents published with the version.
	Documents []documentLink
	Stats     []questionStatRow
	Attempts  bool // any attempt has shown a question of this version
}

// questionStatRow is one question in HR's table of how questions fare.
type questionStatRow struct {
	app.QuestionStat
	Section string // the module's title
	Excerpt string // the start of the prompt, as plain text
}

// questionStats lists every question of v, the highest share answered
// wrongly first, then those no attempt has shown yet.
func (h *Handler) questionStats(c *fiber.Ctx, v *app.PolicyVersion) ([]questionStatRow, bool, error) {
	stats, err := h.Acks.QuestionStats(c.UserContext(), v.ID)
	if err != nil {
		return nil, false, err
	}
	row := func(st app.QuestionStat) questionStatRow {
		r := questionStatRow{QuestionStat: st}
		if q := v.Question(st.QuestionID); q != nil {
			if m := v.Module(q.Module); m != nil {
				r.Section = m.Title
			}
			r.Excerpt = promptExcerpt(q.Prompt)
		}
		return r
	}
	var out []questionStatRow
	seen := map[string]bool{}
	for _, st := range stats {
		seen[st.QuestionID] = true
		out = append(out, row(st))
	}
	for _, q := range v.Questions {
		if !seen[q.ID] {
			out = append(out, row(app.QuestionStat{QuestionID: q.ID}))
		}
	}
	return out, len(stats) > 0, nil
}

// promptExcerpt is the first line of a Markdown prompt without its emphasis
// marks, cut at about 120 characters.
func promptExcerpt(md string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(md), "\n")
	line = strings.NewReplacer("**", "", "__", "", "*", "", "`", "").Replace(line)
	if r := []rune(line); len(r) > 120 {
		return strings.TrimSpace(string(r[:120])) + "…"
	}
	return line
}

// versionShow shows a version and what changed since the one before it.
func (h *Handler) versionShow(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return app.Errorf(app.ENOTFOUND, "Policy version not found.")
	}
	v, err := h.Policies.FindVersionByID(c.UserContext(), id)
	if err != nil {
		return err
	}
	pg := versionPage{Page: h.page(c, v.Title+" "+v.Code), Version: v, Documents: documentLinks(v)}
	pg.Nav = "hr"
	vs, err := h.Policies.FindVersions(c.UserContext())
	if err != nil {
		return err
	}
	for _, o := range vs { // newest first: the first older one is the previous
		if o.ID < v.ID {
			pg.Previous = o
			break
		}
	}
	if pg.Previous != nil {
		prev, err := h.Policies.FindVersionByID(c.UserContext(), pg.Previous.ID)
		if err != nil {
			return err
		}
		pg.Changes = content.Diff(prev, v)
	}
	if pg.Stats, pg.Attempts, err = h.questionStats(c, v); err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "hr_version", pg)
}
