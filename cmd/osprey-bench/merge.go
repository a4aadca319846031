package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// mergeMarkdown writes the sections this run measured (-only) into the report already at path
// instead of replacing it: their table rows, why lines and method notes take the place of the old
// ones (a section new to the table goes at its end; a note replaces the note with the same label,
// the text before its first colon), everything else stays, and a line under the header says which
// sections were rerun, when and how busy the machine was.
func (r *report) mergeMarkdown(path string, rerun []string) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading %s to merge into: %w", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(old), "\n"), "\n")
	ours := func(section string) bool { return slices.Contains(rerun, section) }

	var rows, whys []string
	for _, x := range r.rows {
		rows = append(rows, mdRow(x))
		if x.Why != "" && (x.Status == statusMissed || x.Status == statusNotRun) {
			whys = append(whys, mdWhy(x))
		}
	}
	notes := map[string]string{}
	var noteOrder []string
	for _, n := range r.notes {
		label := noteLabel(n)
		if _, ok := notes[label]; !ok {
			noteOrder = append(noteOrder, label)
		}
		notes[label] = "- " + n
	}

	var out []string
	var placedRows, placedWhys bool
	part := "" // "table", "why", "notes" or "" for the header
	stamp := fmt.Sprintf("- Rerun alone (-only %s): %s, took %v; load average (1 min) at start %s, at the end %s",
		strings.Join(rerun, ","), r.began.Format("2006-01-02 15:04 MST"), r.took.Round(time.Second), r.loadStart, loadAvg())
	flushNotes := func() {
		for _, label := range noteOrder {
			if notes[label] != "" {
				out = append(out, notes[label])
			}
		}
		noteOrder = nil
	}
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "| Section |"):
			part = "table"
		case strings.HasPrefix(l, "## Targets missed"):
			part = "why"
		case strings.HasPrefix(l, "## How each figure"):
			if !placedWhys && len(whys) > 0 && part != "why" {
				out = append(out, "## Targets missed or not measured, and why", "")
				out = append(out, whys...)
				out = append(out, "")
			}
			placedWhys = true
			part = "notes"
		case strings.HasPrefix(l, "- Rerun alone (-only "+strings.Join(rerun, ",")+")"):
			continue // replaced by this run's stamp
		}
		switch part {
		case "":
			out = append(out, l)
			if strings.HasPrefix(l, "- Date:") {
				out = append(out, stamp)
			}
		case "table":
			sec, isRow := rowSection(l)
			if isRow && ours(sec) {
				if !placedRows {
					out = append(out, rows...)
					placedRows = true
				}
				continue
			}
			// The table ends at the first line that is not a row: rows of sections new to it go last.
			if !strings.HasPrefix(l, "|") && !placedRows {
				out = append(out, rows...)
				placedRows = true
			}
			out = append(out, l)
		case "why":
			if strings.HasPrefix(l, "- **") {
				if sec, _, _ := strings.Cut(strings.TrimPrefix(l, "- **"), " / "); ours(sec) {
					continue
				}
			}
			// This run's why lines go after the others, before the blank line ending the list.
			if l == "" && i > 0 && strings.HasPrefix(lines[i-1], "- ") && !placedWhys {
				out = append(out, whys...)
				placedWhys = true
			}
			out = append(out, l)
		case "notes":
			if strings.HasPrefix(l, "- ") {
				if n, ok := notes[noteLabel(strings.TrimPrefix(l, "- "))]; ok {
					if n != "" {
						out = append(out, n)
						notes[noteLabel(strings.TrimPrefix(l, "- "))] = "" // written once, here
					}
					continue
				}
			}
			out = append(out, l)
		}
	}
	if !placedRows {
		return fmt.Errorf("%s has no results table to merge into", path)
	}
	flushNotes()
	return os.WriteFile(path, []byte(strings.Join(out, "\n")+"\n"), 0o644)
}

// rowSection is the section of a table row ("| insights | ..."); ok false for other lines and the
// header and separator rows.
func rowSection(l string) (string, bool) {
	if !strings.HasPrefix(l, "| ") || strings.HasPrefix(l, "| Section |") {
		return "", false
	}
	sec, _, ok := strings.Cut(strings.TrimPrefix(l, "| "), " |")
	return sec, ok
}

// noteLabel is what names a method note: the text before its first colon ("Message search").
func noteLabel(n string) string {
	label, _, _ := strings.Cut(n, ":")
	return label
}

// mdRow and mdWhy are a row of the table and its line in the why list.
func mdRow(x row) string {
	return fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %s |", x.Section, x.Name, x.Value, x.Reference, x.Ratio, x.Target, mdStatus(x.Status))
}

func mdWhy(x row) string {
	return fmt.Sprintf("- **%s / %s** (%s): %s", x.Section, x.Name, x.Status, x.Why)
}
