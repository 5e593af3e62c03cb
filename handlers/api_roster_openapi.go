package handlers

import (
	"portal/app"
	"portal/app/roster"
)

// apiRosterOperation is PUT /api/v1/roster in the OpenAPI document. Its
// schemas are written inline, so that the document's shared components
// stay the read API's.
func apiRosterOperation() apiOperation {
	obj := func(props map[string]any) map[string]any {
		return map[string]any{"type": "object", "properties": props}
	}
	integer := map[string]any{"type": "integer"}
	row := map[string]any{}
	for _, col := range roster.Columns() {
		row[col.Name] = str(col.Format)
	}
	row["roles"] = map[string]any{"type": []string{"string", "array"}, "items": map[string]any{"type": "string"},
		"description": "hr, admin, poster: separated by semicolons, or an array. A token never grants or removes hr or admin."}
	change := obj(map[string]any{"field": str(""), "old": str(""), "new": str("")})
	person := obj(map[string]any{"kind": map[string]any{"type": "string", "enum": app.RosterKinds}, "employee_number": str(""),
		"full_name": str(""), "agency": str(""), "department": str(""), "changes": map[string]any{"type": "array", "items": change},
		"new_email": str("A new address waiting for a second person's approval."), "old_email": str("The address kept until then.")})
	result := obj(map[string]any{"dry_run": map[string]any{"type": "boolean"}, "full": map[string]any{"type": "boolean"},
		"rows": integer, "added": integer, "updated": integer, "reactivated": integer, "deactivated": integer, "unchanged": integer,
		"address_changes": integer, "roles_ignored": integer, "invitations": integer,
		"people": map[string]any{"type": "array", "items": person, "description": "What the rows do, person by person (unchanged people are not listed)."}})
	problems := obj(map[string]any{"error": str("invalid"), "message": str(""), "problems": map[string]any{"type": "array",
		"items": obj(map[string]any{"line": map[string]any{"type": "integer", "description": "The CSV line (the header is 1); 0 for the roster as a whole."},
			"index":   map[string]any{"type": "integer", "description": "JSON only: the row's index in the array, from 0."},
			"column":  str("The column the problem is about, if one."),
			"message": str("")})}})
	flag := func(name, desc string) apiParam {
		return apiParam{Name: name, In: "query", Description: desc, Schema: map[string]any{"type": "integer", "enum": []int{0, 1}, "default": 0}}
	}
	return apiOperation{Method: "PUT", Path: "/api/v1/roster", Scope: app.ScopeRosterWrite, Summary: "Sync the roster",
		Description: "The roster file's rows, checked exactly as an HR upload is, then applied in one transaction (all or nothing) and recorded " +
			"in the audit log under the token's name, with each person's changes in the evidence log and invitations queued for new people. " +
			"As for an upload, a token never grants or removes the hr and admin roles, and a changed e-mail address waits for a second person's approval. " +
			"Without full=1 the rows are a partial roster: people not in it are left as they are.",
		Params: []apiParam{
			flag("dry_run", "1: check the rows and answer what they would change, person by person, changing nothing."),
			flag("full", "1: the rows are the whole roster: active people not in them are deactivated (never deleted)."),
		},
		Body: map[string]any{"required": true, "content": map[string]any{
			"application/json": map[string]any{"schema": map[string]any{"type": "array", "items": obj(row)}},
			"text/csv":         map[string]any{"schema": map[string]any{"type": "string", "description": "The roster CSV, as uploaded on the HR roster page."}},
		}},
		Responses: map[string]any{
			"200": map[string]any{"description": "What was changed, or with dry_run=1 what would be.", "content": map[string]any{"application/json": map[string]any{"schema": result}}},
			"413": jsonResponse("The roster is larger than 20 MB.", "Error"),
			"415": jsonResponse("The body is neither JSON nor CSV.", "Error"),
			"422": map[string]any{"description": "Rows have problems: nothing was changed.", "content": map[string]any{"application/json": map[string]any{"schema": problems}}},
		}}
}
