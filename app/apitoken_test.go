package app

import (
	"strings"
	"testing"
)

func TestValidateAPIToken(t *testing.T) {
	name, scopes, err := ValidateAPIToken(" Payroll ", []string{" roster:write", "completion:read", "roster:write", ""})
	if err != nil || name != "Payroll" || strings.Join(scopes, ",") != "completion:read,roster:write" {
		t.Errorf("got %q %v %v", name, scopes, err)
	}
	for _, c := range []struct {
		name   string
		scopes []string
		field  string
		words  string
	}{
		{"", []string{"completion:read"}, "name", "Enter a name"},
		{strings.Repeat("é", 81), []string{"completion:read"}, "name", "at most 80"},
		{"a\tb", []string{"completion:read"}, "name", "without tabs"},
		{"x", nil, "scope", "at least one scope"},
		{"x", []string{"completion:write"}, "scope", `"completion:write" is not a scope`},
		{"x", []string{"COMPLETION:READ"}, "scope", "is not a scope"},
	} {
		_, _, err := ValidateAPIToken(c.name, c.scopes)
		var got *Error
		if e, ok := err.(interface{ Unwrap() []error }); ok && len(e.Unwrap()) == 1 {
			got, _ = e.Unwrap()[0].(*Error)
		}
		if got == nil || got.Field != c.field || !strings.Contains(got.Message, c.words) || got.Code != EINVALID {
			t.Errorf("%q %v: %v, want %s: %q", c.name, c.scopes, err, c.field, c.words)
		}
	}
	a, _ := NewAPITokenSecret()
	b, _ := NewAPITokenSecret()
	if a == b || !strings.HasPrefix(a, APITokenPrefix) || len(HashAPIToken(a)) != 32 {
		t.Errorf("secrets %q %q", a, b)
	}
}
