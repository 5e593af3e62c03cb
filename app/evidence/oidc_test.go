package evidence

import (
	"bytes"
	"strings"
	"testing"

	"portal/app"
)

// An acknowledgment signed after an OpenID Connect sign-in names the method,
// the subject and, last, the issuer; one signed any other way has no
// issuer field, so its entry is byte for byte what it was before.
func TestAcknowledgmentIssuerComesLastAndOnlyWhenSet(t *testing.T) {
	before := AcknowledgmentLeaf(goldenAck(t)).Data
	a := goldenAck(t)
	a.SignInIssuer = ""
	if got := AcknowledgmentLeaf(a).Data; !bytes.Equal(got, before) || bytes.Contains(got, []byte("sign_in_issuer")) {
		t.Fatalf("an entry without an issuer changed:\n%s", got)
	}
	a.AuthMethod, a.SignInIdentity, a.SignInIssuer = app.AuthOIDC, "00u1abcd", "https://login.example/tenant/v2.0"
	got := string(AcknowledgmentLeaf(a).Data)
	want := strings.Replace(string(before), "auth_method 10:email-link\nsign_in_identity 18:zoe@agency.example\n",
		"auth_method 4:oidc\nsign_in_identity 8:00u1abcd\n", 1) + "sign_in_issuer 33:https://login.example/tenant/v2.0\n"
	if got != want {
		t.Fatalf("entry:\n%s\nwant:\n%s", got, want)
	}
	if a.SignInMethodText() != "OpenID Connect as 00u1abcd at https://login.example/tenant/v2.0" {
		t.Fatalf("method text %q", a.SignInMethodText())
	}
}
