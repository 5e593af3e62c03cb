package export

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"portal/app"
)

// maxFolderBytes bounds a folder's name in the ZIP: with two folders and a
// certificate's file name, a path stays well within what Windows extracts.
const maxFolderBytes = 50

// FolderName makes an agency's or a department's name safe as a folder in
// a ZIP that anyone may unpack on any system: the name as written (accents
// and other scripts kept, so HR recognises it), without the characters
// Windows reserves (< > : " / \ | ? *), control and formatting characters,
// leading or trailing dots and spaces (so never "." or ".."), Windows'
// device names (CON, NUL, COM1 …, which get a "_"), cut to 50 bytes at a
// character's edge. An empty result is fallback.
func FolderName(s, fallback string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case strings.ContainsRune(`<>:"/\|?*`, r):
			return '-'
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), unicode.IsSpace(r), r == utf8.RuneError:
			return ' '
		}
		return r
	}, norm.NFC.String(s))
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxFolderBytes {
		cut := maxFolderBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	s = strings.Trim(s, ". ")
	if s == "" {
		return fallback
	}
	if isDeviceName(s) {
		s += "_"
	}
	return s
}

// isDeviceName reports whether Windows takes a file name for a device,
// whatever its extension: CON, PRN, AUX, NUL, COM0–9, LPT0–9.
func isDeviceName(s string) bool {
	base, _, _ := strings.Cut(strings.ToUpper(s), ".")
	base = strings.TrimRight(base, " ")
	switch base {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	return len(base) == 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) &&
		(base[3] >= '0' && base[3] <= '9')
}

// entryNames gives each certificate its path in the ZIP, once: with
// folders, Agency/Department/file.pdf, else file.pdf. Two paths that differ
// only in case are one path on Windows and macOS, so paths are compared
// without case: a second folder spelled differently joins the first, and a
// second file of the same name gets "-2", "-3" … before ".pdf" (file names
// already hold the employee number and certificate number, so this is for
// names cut short or numbers reused).
type entryNames struct {
	folders bool
	spelled map[string]string // lower-cased folder path → the first spelling
	used    map[string]bool   // lower-cased paths given out
}

func newEntryNames(folders bool) *entryNames {
	return &entryNames{folders: folders, spelled: map[string]string{}, used: map[string]bool{}}
}

func (e *entryNames) path(a *app.Acknowledgment) string {
	dir := ""
	if e.folders {
		dir = FolderName(a.EmployeeAgency, "No agency") + "/" + FolderName(a.EmployeeDept, "No department") + "/"
		key := strings.ToLower(dir)
		if first, ok := e.spelled[key]; ok {
			dir = first
		} else {
			e.spelled[key] = dir
		}
	}
	file := FileName(a)
	name := dir + file
	for i := 2; e.used[strings.ToLower(name)]; i++ {
		name = dir + strings.TrimSuffix(file, ".pdf") + "-" + strconv.Itoa(i) + ".pdf"
	}
	e.used[strings.ToLower(name)] = true
	return name
}
