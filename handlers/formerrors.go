package handlers

import (
	"errors"

	"portal/app"
)

// FieldError is one problem with a form, shown in the GOV.UK error-summary
// pattern: the summary at the top of the page links to the field (#Field),
// and the message is repeated beside the field. Field is the id of the input
// (or of the first input of a group); "" means the form as a whole.
type FieldError struct {
	Field   string
	Message string
}

// FormErrors are a form's problems, in the order of the fields on the page.
type FormErrors []FieldError

// For returns the message for field, or "".
func (fe FormErrors) For(field string) string {
	for _, e := range fe {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

// Get returns the error for field (with an empty Message when there is
// none), for the partials/field_error template.
func (fe FormErrors) Get(field string) FieldError {
	return FieldError{Field: field, Message: fe.For(field)}
}

// formErrors turns err into FormErrors: each *app.Error it is or joins
// (errors.Join) becomes one entry, with its Field. Anything else is shown as
// the safe app.ErrorMessage with no field.
func formErrors(err error) FormErrors {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out FormErrors
		for _, e := range j.Unwrap() {
			out = append(out, formErrors(e)...)
		}
		return out
	}
	var ae *app.Error
	if errors.As(err, &ae) {
		return FormErrors{{Field: ae.Field, Message: ae.Message}}
	}
	return FormErrors{{Message: app.ErrorMessage(err)}}
}

// formError is one error about the whole form or one field.
func formError(field, msg string) FormErrors {
	return FormErrors{{Field: field, Message: msg}}
}

// formErrorsAt is formErrors with the errors about the whole form (a
// conflict, a record not found) linked to field, the input most related to
// them, so that every message in the summary leads somewhere.
func formErrorsAt(err error, field string) FormErrors {
	fe := formErrors(err)
	for i := range fe {
		if fe[i].Field == "" {
			fe[i].Field = field
		}
	}
	return fe
}
