package handlers

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// SCIM's discovery endpoints (RFC 7644 §4): what the portal supports, so
// that a client does not try the rest (bulk, sort, ETags, groups).

func (h *Handler) scimBase() string { return strings.TrimSuffix(h.Config.BaseURL, "/") + "/scim/v2" }

func (h *Handler) scimServiceProviderConfig(c *fiber.Ctx) error {
	no := map[string]any{"supported": false}
	return scimJSON(c, fiber.StatusOK, map[string]any{
		"schemas":        []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"patch":          map[string]any{"supported": true},
		"bulk":           map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":         map[string]any{"supported": true, "maxResults": scimMaxCount},
		"changePassword": no, "sort": no, "etag": no,
		"authenticationSchemes": []any{map[string]any{"type": "oauthbearertoken", "name": "Bearer token", "primary": true,
			"description": "An API token with the roster:write scope, made by an administrator of the portal."}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": h.scimBase() + "/ServiceProviderConfig"},
	})
}

// scimUserResourceType is the one resource type.
func (h *Handler) scimUserResourceType() map[string]any {
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"},
		"id": "User", "name": "User", "endpoint": "/Users", "description": "A person of the roster",
		"schema":           scimUserSchema,
		"schemaExtensions": []any{map[string]any{"schema": scimEnterpriseSchema, "required": true}},
		"meta":             map[string]any{"resourceType": "ResourceType", "location": h.scimBase() + "/ResourceTypes/User"}}
}

func (h *Handler) scimResourceTypes(c *fiber.Ctx) error {
	return scimJSON(c, fiber.StatusOK, map[string]any{"schemas": []string{scimListSchema}, "totalResults": 1,
		"startIndex": 1, "itemsPerPage": 1, "Resources": []any{h.scimUserResourceType()}})
}

// scimAttr describes one attribute in /Schemas.
func scimAttr(name, typ, desc string, required bool, sub ...map[string]any) map[string]any {
	a := map[string]any{"name": name, "type": typ, "multiValued": false, "description": desc, "required": required,
		"caseExact": false, "mutability": "readWrite", "returned": "default", "uniqueness": "none"}
	if sub != nil {
		a["subAttributes"] = sub
	}
	return a
}

func (h *Handler) scimSchemaList() []any {
	userName := scimAttr("userName", "string", "The person's e-mail address, the one they sign in with.", true)
	userName["uniqueness"] = "server"
	emails := scimAttr("emails", "complex", "Returned as the userName; not read.", false,
		scimAttr("value", "string", "", false), scimAttr("type", "string", "", false), scimAttr("primary", "boolean", "", false))
	emails["multiValued"] = true
	emails["mutability"] = "readOnly"
	employeeNumber := scimAttr("employeeNumber", "string", "The employee number: required, and never changed.", true)
	employeeNumber["mutability"] = "immutable"
	employeeNumber["uniqueness"] = "server"
	return []any{
		map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Schema"}, "id": scimUserSchema, "name": "User",
			"description": "A person of the roster", "attributes": []any{
				userName,
				scimAttr("name", "complex", "The full name: formatted, else givenName and familyName together.", false,
					scimAttr("formatted", "string", "", false), scimAttr("givenName", "string", "", false), scimAttr("familyName", "string", "", false)),
				scimAttr("displayName", "string", "The full name, when name is not sent.", false),
				scimAttr("title", "string", "", false),
				emails,
				scimAttr("active", "boolean", "false deactivates the person (never deletes).", false),
			},
			"meta": map[string]any{"resourceType": "Schema", "location": h.scimBase() + "/Schemas/" + scimUserSchema}},
		map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Schema"}, "id": scimEnterpriseSchema, "name": "EnterpriseUser",
			"description": "The roster's organisation fields", "attributes": []any{
				employeeNumber,
				scimAttr("organization", "string", "The agency.", true),
				scimAttr("department", "string", "", true),
				scimAttr("manager", "complex", "The manager, by their id in the portal.", false, scimAttr("value", "string", "", false)),
			},
			"meta": map[string]any{"resourceType": "Schema", "location": h.scimBase() + "/Schemas/" + scimEnterpriseSchema}},
	}
}

func (h *Handler) scimSchemas(c *fiber.Ctx) error {
	list := h.scimSchemaList()
	return scimJSON(c, fiber.StatusOK, map[string]any{"schemas": []string{scimListSchema}, "totalResults": len(list),
		"startIndex": 1, "itemsPerPage": len(list), "Resources": list})
}
