package app

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"image/png"
	"strings"
	"time"
	"unicode/utf8"
)

// AuthPaper is the sign-in method of an acknowledgment recorded by HR from
// a signed paper form: the signer used no sign-in at all.
const AuthPaper = "paper"

// Scans of paper forms.
const (
	// MaxScanSize is the largest scan taken, in bytes.
	MaxScanSize = 10 << 20
	// MaxPaperNoteLength bounds HR's note, in characters.
	MaxPaperNoteLength = 1000
)

// Scan content types: the only kinds of file taken as a scan.
const (
	ScanPDF  = "application/pdf"
	ScanPNG  = "image/png"
	ScanJPEG = "image/jpeg"
)

// PaperRecord is what makes an acknowledgment a paper one: the form's date,
// who recorded it and when, and the scan of the form (its bytes are kept
// apart, in the scan store; its SHA-256 is part of the evidence).
type PaperRecord struct {
	SignedOn       string    // YYYY-MM-DD, the date written on the form
	RecordedAt     time.Time // UTC, when HR recorded it
	RecordedBy     int64     // the HR user
	RecordedByName string    // their name as at recording (a snapshot)
	ScanID         int64
	ScanSHA256     string // hex
	ScanType       string // ScanPDF, ScanPNG or ScanJPEG
	ScanSize       int64
	Note           string
}

// ScanKind names the scan's type in words.
func (p *PaperRecord) ScanKind() string {
	switch p.ScanType {
	case ScanPDF:
		return "PDF"
	case ScanPNG:
		return "PNG image"
	case ScanJPEG:
		return "JPEG image"
	}
	return p.ScanType
}

// PaperScan is a stored scan of a paper form with its bytes.
type PaperScan struct {
	ID          int64
	ContentType string
	Size        int64
	SHA256      string
	Data        []byte
}

// PaperAckRequest is HR recording a paper acknowledgment for a person in
// the open cycle.
type PaperAckRequest struct {
	EmployeeID int64
	CycleID    int64
	SignedOn   string // YYYY-MM-DD
	Note       string
	Scan       []byte // nil when no file was sent
	RecordedBy int64
	IP         string
	UserAgent  string
}

// Validate checks the request against the cycle on the day today
// (YYYY-MM-DD, in the portal's time zone) and returns the scan's content
// type. It reports every problem at once, each naming its form field.
func (r *PaperAckRequest) Validate(c *Cycle, today string) (string, error) {
	var errs []error
	r.SignedOn = strings.TrimSpace(r.SignedOn)
	switch d, err := time.Parse(DateLayout, r.SignedOn); {
	case r.SignedOn == "":
		errs = append(errs, Invalid("signed_on", "Enter the date the form was signed."))
	case err != nil || d.Format(DateLayout) != r.SignedOn:
		errs = append(errs, Invalid("signed_on", "Enter the date the form was signed as YYYY-MM-DD, for example %s.", today))
	case r.SignedOn > today:
		errs = append(errs, Invalid("signed_on", "The date the form was signed cannot be in the future (today is %s).", today))
	case r.SignedOn < c.OpensOn:
		errs = append(errs, Invalid("signed_on", "The form was signed before the cycle opened on %s, so it cannot count for %s. Ask the person to sign a new form.", c.OpensOn, c.Name))
	}
	ctype := ""
	switch {
	case len(r.Scan) == 0:
		errs = append(errs, Invalid("scan", "Choose the scan of the signed form (a PDF, PNG or JPEG file)."))
	case len(r.Scan) > MaxScanSize:
		errs = append(errs, Invalid("scan", "The scan is larger than 10 MB. Scan the form again at a lower resolution, or in black and white."))
	default:
		var ok bool
		if ctype, ok = SniffScan(r.Scan); !ok {
			errs = append(errs, Invalid("scan", "The file is not a PDF, PNG or JPEG scan. Save the scan in one of these formats and choose it again."))
		}
	}
	r.Note = strings.TrimSpace(r.Note)
	if !utf8.ValidString(r.Note) {
		errs = append(errs, Invalid("note", "The note holds characters that cannot be read. Type it again."))
	} else if utf8.RuneCountInString(r.Note) > MaxPaperNoteLength {
		errs = append(errs, Invalid("note", "The note must be %d characters or fewer.", MaxPaperNoteLength))
	}
	return ctype, errors.Join(errs...)
}

// SniffScan says what a scan is from its content, never its name: a PDF
// (its header, and its end-of-file marker near the end, so that a cut-off
// upload is refused), or a PNG or JPEG image whose header decodes.
func SniffScan(b []byte) (string, bool) {
	switch {
	case bytes.HasPrefix(b, []byte("%PDF-")):
		tail := b[max(0, len(b)-1024):]
		return ScanPDF, bytes.Contains(tail, []byte("%%EOF"))
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		_, err := png.DecodeConfig(bytes.NewReader(b))
		return ScanPNG, err == nil
	case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
		_, err := jpeg.DecodeConfig(bytes.NewReader(b))
		return ScanJPEG, err == nil
	}
	return "", false
}

// ScanExtension is the file extension a scan of the type is served with.
func ScanExtension(ctype string) string {
	switch ctype {
	case ScanPDF:
		return ".pdf"
	case ScanPNG:
		return ".png"
	case ScanJPEG:
		return ".jpg"
	}
	return ""
}

// PaperService records paper acknowledgments and serves their scans.
type PaperService interface {
	// RecordPaperAcknowledgment stores the scan, the acknowledgment, its
	// log entry, the assignment's signature and an audit event in one
	// transaction, and returns the acknowledgment as stored. The request
	// must have been validated; ctype is the scan's sniffed type.
	// ECONFLICT when the person has already signed the cycle.
	RecordPaperAcknowledgment(ctx context.Context, r *PaperAckRequest, ctype string) (*Acknowledgment, error)
	// FindPaperScan returns the scan of a paper acknowledgment with its
	// bytes, checked against the SHA-256 in the acknowledgment: bytes
	// that no longer match are an internal error, never served.
	FindPaperScan(ctx context.Context, ackID int64) (*PaperScan, error)
}
