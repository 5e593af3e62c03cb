package handlers

import (
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"

	"portal/app"
)

// The OpenAPI 3.1 document of the API, served at /api/v1/openapi.json. It
// is written here by hand, next to the routes' words; a test
// (TestOpenAPIDocumentMatchesRoutes) fails when a /api/v1/ route of the
// route table is missing from it, or it names one the table does not have.

// apiOperation is one route of the document.
type apiOperation struct {
	Method, Path string // as in the route table, parameters as :name
	Scope        string // "" for a public route
	Summary      string
	Description  string
	Params       []apiParam
	Body         map[string]any // the request body object; nil for none
	Responses    map[string]any // status → response object (errors are added)
}

type apiParam struct {
	Name, In, Description string
	Required              bool
	Schema                map[string]any
}

func jsonResponse(desc, schema string) map[string]any {
	return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": ref(schema)}}}
}

func ref(schema string) map[string]any {
	return map[string]any{"$ref": "#/components/schemas/" + schema}
}

func str(desc string) map[string]any { return map[string]any{"type": "string", "description": desc} }

// apiOperations are the API's routes, in the route table's order.
func apiOperations() []apiOperation {
	query := func(name, desc string, schema map[string]any) apiParam {
		return apiParam{Name: name, In: "query", Description: desc, Schema: schema}
	}
	return []apiOperation{
		{Method: "GET", Path: "/api/v1/openapi.json", Summary: "This document",
			Responses: map[string]any{"200": map[string]any{"description": "The OpenAPI 3.1 document of the API.",
				"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}}}},
		{Method: "GET", Path: "/api/v1/completion", Scope: app.ScopeCompletionRead, Summary: "Completion per person for a cycle",
			Description: "Everyone assigned in the cycle with their status, the HR dashboard's filters and statuses. Paged by cursor, in employee order: " +
				"call again with cursor set to next, and the same filters, until next is null. Each person appears exactly once across the pages.",
			Params: []apiParam{
				query("cycle", "The cycle's id; by default the open annual cycle.", map[string]any{"type": "integer", "minimum": 1}),
				query("agency", "Only this agency's people.", map[string]any{"type": "string"}),
				query("department", "Only this department's people.", map[string]any{"type": "string"}),
				query("status", "Only people in this status.", map[string]any{"type": "string", "enum": app.Statuses}),
				query("q", "Search by name, employee number or e-mail address.", map[string]any{"type": "string", "maxLength": 200}),
				query("limit", "People per page.", map[string]any{"type": "integer", "minimum": 1, "maximum": apiMaxLimit, "default": apiDefaultLimit}),
				query("cursor", "The next of the previous page.", map[string]any{"type": "string"}),
			},
			Responses: map[string]any{"200": jsonResponse("One page of people.", "CompletionPage")}},
		{Method: "GET", Path: "/api/v1/people/:number/acknowledgments", Scope: app.ScopeCompletionRead, Summary: "One person's acknowledgments",
			Description: "Every acknowledgment the person signed, in the portal or on paper, newest first.",
			Params:      []apiParam{{Name: "number", In: "path", Required: true, Description: "The employee number.", Schema: map[string]any{"type": "string"}}},
			Responses:   map[string]any{"200": jsonResponse("The person and their acknowledgments.", "PersonAcknowledgments")}},
		{Method: "GET", Path: "/api/v1/certificates/:code", Scope: app.ScopeCertificatesRead, Summary: "A certificate's PDF",
			Params: []apiParam{{Name: "code", In: "path", Required: true, Description: "The certificate code, as printed (for example 7K2QD-M9XRA).",
				Schema: map[string]any{"type": "string"}}},
			Responses: map[string]any{"200": map[string]any{"description": "The certificate.",
				"content": map[string]any{"application/pdf": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}}}},
		apiRosterOperation(), // api_roster_openapi.go
	}
}

var routeParam = regexp.MustCompile(`:([A-Za-z_]+)`)

// OpenAPIPath is a route table path as OpenAPI writes it (:code → {code}).
func OpenAPIPath(path string) string { return routeParam.ReplaceAllString(path, "{$1}") }

// openAPIDocument builds the document.
func (h *Handler) openAPIDocument() map[string]any {
	paths := map[string]any{}
	for _, op := range apiOperations() {
		o := map[string]any{"summary": op.Summary, "operationId": strings.ToLower(op.Method) + OpenAPIPath(op.Path)}
		if op.Description != "" {
			o["description"] = op.Description
		}
		var params []any
		for _, p := range op.Params {
			params = append(params, map[string]any{"name": p.Name, "in": p.In, "required": p.Required || p.In == "path",
				"description": p.Description, "schema": p.Schema})
		}
		if params != nil {
			o["parameters"] = params
		}
		if op.Body != nil {
			o["requestBody"] = op.Body
		}
		responses := map[string]any{}
		for k, v := range op.Responses {
			responses[k] = v
		}
		if op.Scope == "" {
			o["security"] = []any{}
		} else {
			o["security"] = []any{map[string]any{"bearer": []string{op.Scope}}}
			o["x-required-scope"] = op.Scope
			responses["400"] = jsonResponse("A parameter is wrong; the message says which.", "Error")
			responses["401"] = jsonResponse("No token, or a token unknown or revoked.", "Error")
			responses["403"] = jsonResponse("The token does not have the scope "+op.Scope+".", "Error")
			responses["404"] = jsonResponse("Nothing has that id, number or code.", "Error")
			responses["429"] = jsonResponse("The token made too many calls; wait for Retry-After seconds.", "Error")
		}
		o["responses"] = responses
		item, _ := paths[OpenAPIPath(op.Path)].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[OpenAPIPath(op.Path)] = item
		}
		item[strings.ToLower(op.Method)] = o
	}
	nullable := func(t string) map[string]any { return map[string]any{"type": []string{t, "null"}} }
	obj := func(props map[string]any) map[string]any {
		return map[string]any{"type": "object", "properties": props}
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "Social media policy acknowledgment portal API", "version": "1",
			"description": "Read completion and certificates. Every call needs a bearer token an administrator made, with the scope the call names; " +
				"every call is recorded in the portal's audit log under the token's name."},
		"servers":  []any{map[string]any{"url": h.Config.BaseURL}},
		"security": []any{map[string]any{"bearer": []string{}}},
		"paths":    paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer",
				"description": "A token made on the portal's API tokens page or with `portal api-token create`; it starts with " + app.APITokenPrefix + "."}},
			"schemas": map[string]any{
				"Error": obj(map[string]any{"error": str("A code for programs: bad_request, unauthorized, forbidden, not_found, too_many_requests, internal…"),
					"message": str("What went wrong, in words.")}),
				"Cycle": obj(map[string]any{"id": map[string]any{"type": "integer"}, "name": str(""), "year": map[string]any{"type": "integer"},
					"opens_on": map[string]any{"type": "string", "format": "date"}, "due_on": map[string]any{"type": "string", "format": "date"},
					"open": map[string]any{"type": "boolean"}}),
				"Person": obj(map[string]any{"employee_number": str(""), "name": str(""), "email": str(""), "agency": str(""), "department": str(""),
					"title": str(""), "manager": str("The manager's name."), "due_on": map[string]any{"type": "string", "format": "date"},
					"status":           map[string]any{"type": "string", "enum": app.Statuses},
					"status_label":     str("The status in words, as the dashboard shows it."),
					"signed_at":        map[string]any{"type": []string{"string", "null"}, "format": "date-time"},
					"certificate_code": str("Present once signed.")}),
				"CompletionPage": obj(map[string]any{"cycle": ref("Cycle"), "total": map[string]any{"type": "integer", "description": "People matching the filters on all pages."},
					"people": map[string]any{"type": "array", "items": ref("Person")}, "next": nullable("string")}),
				"Acknowledgment": obj(map[string]any{"cycle": obj(map[string]any{"id": map[string]any{"type": "integer"}, "name": str("")}),
					"policy_version": str(""), "kind": str("What was acknowledged."), "annual": map[string]any{"type": "boolean"},
					"signed_at": map[string]any{"type": "string", "format": "date-time"}, "method": str("How the signer signed in: email-link, sso-header, paper…"),
					"paper_signed_on": str("The date on a paper form."), "certificate_number": str(""), "certificate_code": str(""),
					"superseded": map[string]any{"type": "boolean", "description": "A material change of the policy came after it in its cycle."}}),
				"PersonAcknowledgments": obj(map[string]any{"employee_number": str(""), "name": str(""), "active": map[string]any{"type": "boolean"},
					"acknowledgments": map[string]any{"type": "array", "items": ref("Acknowledgment")}}),
			},
		},
	}
}

// apiOpenAPI serves the document.
func (h *Handler) apiOpenAPI(c *fiber.Ctx) error {
	return c.JSON(h.openAPIDocument())
}
