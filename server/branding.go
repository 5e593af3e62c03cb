package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"os"
	"strings"
	"unicode/utf8"

	"portal/handlers"
)

// MaxLogoBytes is the largest organisation logo the portal accepts: a logo
// is a small image shown on every page, not a photograph.
const MaxLogoBytes = 256 << 10

// demoOrgName is the organisation the demo names in its header.
const demoOrgName = "State of Maine (demonstration)"

// loadBranding reads who runs the portal: the organisation's name, its
// logo (read and checked now, so that a bad file stops the start rather than
// showing a broken image on every page) and where people write for help.
func (c *Config) loadBranding() error {
	def := ""
	if c.Demo {
		def = demoOrgName
	}
	c.OrgName = env("PORTAL_ORG_NAME", def)
	if utf8.RuneCountInString(c.OrgName) > 120 || strings.ContainsAny(c.OrgName, "\r\n\t") {
		return fmt.Errorf("PORTAL_ORG_NAME must be one line of at most 120 characters")
	}
	if path := env("PORTAL_ORG_LOGO", ""); path != "" {
		logo, err := readLogo(path)
		if err != nil {
			return fmt.Errorf("PORTAL_ORG_LOGO %s: %w", path, err)
		}
		c.OrgLogo = logo
	}
	defHelp := ""
	if c.Demo {
		defHelp = "help@demo.portal.invalid"
	}
	c.HelpEmail = env("PORTAL_HELP_EMAIL", defHelp)
	if c.HelpEmail != "" {
		a, err := mail.ParseAddress(c.HelpEmail)
		if err != nil || a.Address != c.HelpEmail {
			return fmt.Errorf("PORTAL_HELP_EMAIL must be one e-mail address, such as hr-help@agency.example, not %q", c.HelpEmail)
		}
	}
	return nil
}

// readLogo reads a logo file and names its type from its first bytes, never
// from its name: PNG, JPEG or SVG, at most MaxLogoBytes.
func readLogo(path string) (*handlers.Logo, error) {
	f, err := os.Open(path) // #nosec G304 -- the operator names the logo file
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errors.New("no such file")
		}
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxLogoBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxLogoBytes {
		return nil, fmt.Errorf("the file is larger than %d KB; a logo must be a small PNG, SVG or JPEG", MaxLogoBytes>>10)
	}
	ct := logoType(b)
	if ct == "" {
		return nil, errors.New("the file is not a PNG, SVG or JPEG image")
	}
	sum := sha256.Sum256(b)
	return &handlers.Logo{Data: b, ContentType: ct, Version: hex.EncodeToString(sum[:8])}, nil
}

// logoType is the content type of a logo by its content, or "" when it is
// none of the three accepted.
func logoType(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return "image/jpeg"
	}
	// SVG is text: an XML declaration, comments or a doctype may come first,
	// so look for the root element near the start, and only in UTF-8 text.
	head := b[:min(len(b), 4096)]
	if utf8.Valid(b) && bytes.Contains(bytes.ToLower(head), []byte("<svg")) {
		return "image/svg+xml"
	}
	return ""
}
