package server

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

var claimNameRE = regexp.MustCompile(`^[A-Za-z0-9_.:/-]{1,100}$`)

// loadOIDC reads sign-in with the agency's OpenID Connect provider and
// whether e-mail sign-in links stay on. The client secret is only ever held
// here and in the relying party: never logged, never stored.
func (c *Config) loadOIDC() error {
	c.OIDC.Issuer = strings.TrimRight(env("PORTAL_OIDC_ISSUER", ""), "/")
	c.OIDC.ClientID = env("PORTAL_OIDC_CLIENT_ID", "")
	c.OIDC.ClientSecret = env("PORTAL_OIDC_CLIENT_SECRET", "")
	c.OIDC.Claim = env("PORTAL_OIDC_CLAIM", "email")
	c.OIDC.Scopes = strings.Fields(env("PORTAL_OIDC_SCOPES", "openid email profile"))
	switch links := strings.ToLower(env("PORTAL_EMAIL_LINKS", "on")); links {
	case "on":
	case "off":
		c.EmailLinksOff = true
	default:
		return fmt.Errorf("PORTAL_EMAIL_LINKS must be on or off, not %q", links)
	}
	if c.OIDC.Issuer == "" {
		for _, name := range []string{"PORTAL_OIDC_CLIENT_ID", "PORTAL_OIDC_CLIENT_SECRET", "PORTAL_OIDC_CLAIM", "PORTAL_OIDC_SCOPES"} {
			if env(name, "") != "" {
				return fmt.Errorf("%s is set but PORTAL_OIDC_ISSUER is not: set the issuer to turn OpenID Connect sign-in on", name)
			}
		}
		if c.EmailLinksOff && c.SSOHeader == "" {
			return fmt.Errorf("PORTAL_EMAIL_LINKS is off but neither PORTAL_OIDC_ISSUER nor PORTAL_SSO_HEADER is set: nobody could sign in")
		}
		return nil
	}
	if err := secureURL("PORTAL_OIDC_ISSUER", c.OIDC.Issuer); err != nil {
		return err
	}
	if err := secureURL("PORTAL_BASE_URL (the OpenID Connect redirect address is under it)", c.BaseURL); err != nil {
		return err
	}
	if c.OIDC.ClientID == "" {
		return fmt.Errorf("PORTAL_OIDC_ISSUER is set but PORTAL_OIDC_CLIENT_ID is empty: copy the client (application) id from the provider")
	}
	if c.OIDC.ClientSecret == "" {
		return fmt.Errorf("PORTAL_OIDC_ISSUER is set but PORTAL_OIDC_CLIENT_SECRET is empty: copy the client secret from the provider")
	}
	if !claimNameRE.MatchString(c.OIDC.Claim) {
		return fmt.Errorf("PORTAL_OIDC_CLAIM must be a claim name such as email or employee_number, not %q", c.OIDC.Claim)
	}
	if !slices.Contains(c.OIDC.Scopes, "openid") {
		return fmt.Errorf("PORTAL_OIDC_SCOPES must include openid, not %q", strings.Join(c.OIDC.Scopes, " "))
	}
	return nil
}

// secureURL refuses an address that is not https, except http on this
// machine (a provider or a portal under test): codes and tokens must not
// cross a network in the clear.
func secureURL(name, v string) error {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%s must be an https:// address, not %q", name, v)
	}
	if u.Scheme == "http" {
		host := u.Hostname()
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("%s must be an https:// address (http:// only on this machine), not %q", name, v)
		}
	}
	return nil
}
