// Package app holds the portal's domain: its types, rules, service interfaces
// and errors. It imports no web framework and no SQL driver.
package app

import (
	"errors"
	"fmt"
)

// Error codes. They describe what went wrong in terms a handler can map to a
// status code; the message is safe to show to the user.
const (
	ECONFLICT     = "conflict"
	EINTERNAL     = "internal"
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ETOOLARGE     = "too_large"
	ETOOMANY      = "too_many"
)

// Error is the portal's one error type. Message is written for the person
// using the portal; internal causes are never put in it.
type Error struct {
	Code    string
	Message string
	// Field names the form field the message is about ("" for the form as
	// a whole), so a page can link to it and show the message beside it.
	Field string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("portal error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID *Error about one form field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Message: fmt.Sprintf(format, args...), Field: field}
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, and
// EINTERNAL for any other non-nil error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err, or "Internal error"
// for anything that is not an *Error, so internal detail never leaks.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}
