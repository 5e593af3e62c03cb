package app

import (
	"errors"
	"strings"
	"testing"
)

func TestSigningWithTheSignatureName(t *testing.T) {
	wang := &Employee{FullName: "王小明", SignatureName: "Wang Xiaoming"}
	plain := &Employee{FullName: "Zoë Côté"}
	sign := func(e *Employee, typed string) error {
		r := &SignRequest{TypedName: typed, Intent: true}
		return r.Validate(e)
	}
	for _, typed := range []string{"王小明", "Wang Xiaoming", "wang  xiaoming", "WANG XIAOMING", "Wang-Xiaoming"} {
		t.Run("signs as "+typed, func(t *testing.T) {
			if err := sign(wang, typed); err != nil {
				t.Fatalf("refused: %v", err)
			}
		})
	}
	t.Run("a near miss of the signature name is refused on the name field, naming both names", func(t *testing.T) {
		err := sign(wang, "Wang Xiaomin")
		var fe *Error
		if !errors.As(err, &fe) || fe.Field != "typed_name" {
			t.Fatalf("error %v is not a typed_name field error", err)
		}
		if !strings.Contains(err.Error(), "王小明 or Wang Xiaoming") {
			t.Errorf("the message does not name both names: %v", err)
		}
	})
	t.Run("without a signature name only the roster name signs, and the message names it alone", func(t *testing.T) {
		if err := sign(plain, "Zoe Cote"); err != nil {
			t.Fatalf("refused: %v", err)
		}
		err := sign(plain, "Wang Xiaoming")
		if err == nil || !strings.Contains(err.Error(), "(Zoë Côté)") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("SignatureNames shows one name when both are the same or there is no second", func(t *testing.T) {
		if got := (&Employee{FullName: "Jane Doe", SignatureName: "Jane Doe"}).SignatureNames(); got != "Jane Doe" {
			t.Errorf("got %q", got)
		}
		if got := wang.SignatureNames(); got != "王小明 or Wang Xiaoming" {
			t.Errorf("got %q", got)
		}
	})
}
