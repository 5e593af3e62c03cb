package app

import (
	"errors"
	"testing"
	"time"
)

func TestAuthorizationStatus(t *testing.T) {
	today := "2026-12-04"
	ended := &AuthorizationEnd{Reason: EndRevoked, At: time.Now()}
	for _, c := range []struct {
		name string
		a    Authorization
		want string
	}{
		{"running until revoked", Authorization{StartsOn: "2026-01-01"}, AuthActive},
		{"starts today", Authorization{StartsOn: today}, AuthActive},
		{"starts tomorrow", Authorization{StartsOn: "2026-12-05"}, AuthNotStarted},
		{"ends in 15 days", Authorization{StartsOn: "2026-01-01", EndsOn: "2026-12-19"}, AuthActive},
		{"ends in 14 days", Authorization{StartsOn: "2026-01-01", EndsOn: "2026-12-18"}, AuthEndingSoon},
		{"ends today", Authorization{StartsOn: "2026-01-01", EndsOn: today}, AuthEndingSoon},
		{"ended yesterday", Authorization{StartsOn: "2026-01-01", EndsOn: "2026-12-03"}, AuthEnded},
		{"revoked", Authorization{StartsOn: "2026-01-01", Ended: ended}, AuthEnded},
	} {
		if got := c.a.Status(today); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
		if got := c.a.ActiveOn(today); got != (c.want == AuthActive || c.want == AuthEndingSoon) {
			t.Errorf("%s: active %v", c.name, got)
		}
		if AuthorizationStatusLabel(c.want) == c.want {
			t.Errorf("%s: no words for %s", c.name, c.want)
		}
	}
}

func TestAuthorizationRequestValidate(t *testing.T) {
	ok := func() AuthorizationRequest {
		return AuthorizationRequest{EmployeeNumber: "1", AccountIDs: []int64{1}, StartsOn: "2026-12-04", Scope: "news"}
	}
	r := ok()
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		field string
		edit  func(*AuthorizationRequest)
	}{
		{"employee", func(r *AuthorizationRequest) { r.EmployeeNumber = " " }},
		{"accounts", func(r *AuthorizationRequest) { r.AccountIDs = nil }},
		{"starts_on", func(r *AuthorizationRequest) { r.StartsOn = "2026-02-30" }},
		{"ends_on", func(r *AuthorizationRequest) { r.EndsOn = "2026-12-03" }},
		{"ends_on", func(r *AuthorizationRequest) { r.EndsOn = "12/31/2026" }},
		{"scope", func(r *AuthorizationRequest) { r.Scope = "" }},
	} {
		r := ok()
		c.edit(&r)
		var ae *Error
		if err := r.Validate(); !errors.As(err, &ae) || ae.Field != c.field {
			t.Errorf("%s: %v", c.field, err)
		}
	}
}

func TestPosterRoleFollowsAuthorizations(t *testing.T) {
	e := &Employee{PostingPeriods: []PostingPeriod{{From: "2026-12-10", To: "2026-12-20"}}}
	for day, want := range map[string]bool{"2026-12-09": false, "2026-12-10": true, "2026-12-20": true, "2026-12-21": false} {
		if got := e.PostsOn(day); got != want {
			t.Errorf("%s: %v", day, got)
		}
	}
	e.AuthorizedPoster = true
	if !e.HasRole(RolePoster) || e.RosterPoster() || e.HasRole(RoleHR) {
		t.Error("an authorized poster is not a poster, or more")
	}
	legacy := &Employee{Roles: []Role{RolePoster}}
	if !legacy.HasRole(RolePoster) || !legacy.RosterPoster() {
		t.Error("the roster's poster value is no longer read")
	}
}
