package app

import (
	"crypto/rand"
	"fmt"
	"strings"
)

// crockford is Crockford's base-32 alphabet: no I, L, O or U, so a code read
// aloud or typed from paper is hard to get wrong.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewVerifyCode returns a random certificate verification code such as
// "7K2QD-M9XRA" (50 bits of randomness).
func NewVerifyCode() (string, error) {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random verify code: %w", err)
	}
	out := make([]byte, 0, 11)
	for i, v := range b {
		if i == 5 {
			out = append(out, '-')
		}
		out = append(out, crockford[int(v)%32])
	}
	return string(out), nil
}

// NormalizeVerifyCode turns what a person typed into the stored form:
// upper case, O read as 0, I and L as 1, a dash after five characters.
func NormalizeVerifyCode(s string) (string, bool) {
	s = strings.ToUpper(strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, s))
	s = strings.NewReplacer("O", "0", "I", "1", "L", "1").Replace(s)
	if len(s) != 10 {
		return "", false
	}
	for _, r := range s {
		if !strings.ContainsRune(crockford, r) {
			return "", false
		}
	}
	return s[:5] + "-" + s[5:], true
}
