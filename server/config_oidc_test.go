package server

import (
	"slices"
	"strings"
	"testing"
)

// Each PORTAL_OIDC_* and PORTAL_EMAIL_LINKS value the portal cannot use is
// refused at start with a message naming the variable, and never repeating
// the client secret.
func TestOIDCConfig(t *testing.T) {
	vars := []string{"PORTAL_OIDC_ISSUER", "PORTAL_OIDC_CLIENT_ID", "PORTAL_OIDC_CLIENT_SECRET", "PORTAL_OIDC_CLAIM",
		"PORTAL_OIDC_SCOPES", "PORTAL_EMAIL_LINKS", "PORTAL_BASE_URL", "PORTAL_SSO_HEADER", "PORTAL_SSO_PROXIES"}
	set := func(t *testing.T, kv ...string) {
		for _, k := range vars {
			t.Setenv(k, "")
		}
		for i := 0; i < len(kv); i += 2 {
			t.Setenv(kv[i], kv[i+1])
		}
	}
	good := []string{"PORTAL_BASE_URL", "https://portal.agency.example", "PORTAL_OIDC_ISSUER", "https://login.example/tenant/v2.0/",
		"PORTAL_OIDC_CLIENT_ID", "client-1", "PORTAL_OIDC_CLIENT_SECRET", "very-secret-value"}

	t.Run("off when no issuer is set", func(t *testing.T) {
		set(t)
		c, err := LoadConfig(true)
		if err != nil || c.OIDC.Issuer != "" || c.EmailLinksOff {
			t.Fatalf("err %v, config %+v", err, c.OIDC)
		}
	})
	t.Run("the defaults", func(t *testing.T) {
		set(t, good...)
		c, err := LoadConfig(true)
		if err != nil {
			t.Fatal(err)
		}
		if c.OIDC.Issuer != "https://login.example/tenant/v2.0" || c.OIDC.Claim != "email" ||
			!slices.Equal(c.OIDC.Scopes, []string{"openid", "email", "profile"}) || c.OIDC.ClientSecret != "very-secret-value" {
			t.Fatalf("config %+v", c.OIDC)
		}
	})
	t.Run("e-mail links off with the agency account", func(t *testing.T) {
		set(t, append(good, "PORTAL_EMAIL_LINKS", "OFF", "PORTAL_OIDC_CLAIM", "employeeid", "PORTAL_OIDC_SCOPES", "openid profile")...)
		c, err := LoadConfig(true)
		if err != nil || !c.EmailLinksOff || c.OIDC.Claim != "employeeid" || !slices.Equal(c.OIDC.Scopes, []string{"openid", "profile"}) {
			t.Fatalf("err %v, links off %v, config %+v", err, c != nil && c.EmailLinksOff, c)
		}
	})
	for _, tc := range []struct {
		name string
		kv   []string
		want string
	}{
		{"a client id without an issuer", []string{"PORTAL_OIDC_CLIENT_ID", "x"}, "PORTAL_OIDC_CLIENT_ID is set but PORTAL_OIDC_ISSUER is not"},
		{"an issuer over plain http", []string{"PORTAL_OIDC_ISSUER", "http://login.example"}, "PORTAL_OIDC_ISSUER must be an https:// address"},
		{"an issuer that is not an address", []string{"PORTAL_OIDC_ISSUER", "login.example"}, "PORTAL_OIDC_ISSUER must be an https:// address"},
		{"a portal over plain http", []string{"PORTAL_BASE_URL", "http://portal.agency.example"}, "PORTAL_BASE_URL (the OpenID Connect redirect address is under it) must be an https:// address"},
		{"no client id", []string{"PORTAL_OIDC_CLIENT_ID", ""}, "PORTAL_OIDC_CLIENT_ID is empty"},
		{"no client secret", []string{"PORTAL_OIDC_CLIENT_SECRET", ""}, "PORTAL_OIDC_CLIENT_SECRET is empty"},
		{"a claim that is not a name", []string{"PORTAL_OIDC_CLAIM", "employee number"}, "PORTAL_OIDC_CLAIM must be a claim name"},
		{"scopes without openid", []string{"PORTAL_OIDC_SCOPES", "email profile"}, "PORTAL_OIDC_SCOPES must include openid"},
		{"e-mail links neither on nor off", []string{"PORTAL_EMAIL_LINKS", "no"}, `PORTAL_EMAIL_LINKS must be on or off, not "no"`},
	} {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			kv := append([]string{}, good...)
			if strings.HasPrefix(tc.name, "a client id without") {
				kv = nil
			}
			set(t, append(kv, tc.kv...)...)
			_, err := LoadConfig(true)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "very-secret-value") {
				t.Fatal("the message repeats the client secret")
			}
		})
	}
	t.Run("e-mail links off with no other way in is refused", func(t *testing.T) {
		set(t, "PORTAL_EMAIL_LINKS", "off")
		if _, err := LoadConfig(true); err == nil || !strings.Contains(err.Error(), "nobody could sign in") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("http on this machine is allowed (a provider under test)", func(t *testing.T) {
		set(t, append(good, "PORTAL_OIDC_ISSUER", "http://127.0.0.1:9999", "PORTAL_BASE_URL", "http://localhost:3000")...)
		if _, err := LoadConfig(true); err != nil {
			t.Fatal(err)
		}
	})
}
