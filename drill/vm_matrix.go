package drill

import (
	"fmt"
	"io"
	"strings"
)

// matrixRow is one script in one family across the run's kernels.
type matrixRow struct {
	path, family string
	cells        []*Result // by kernel, nil = not run
}

// matrix groups a run over several kernels by script and family, in the
// jobs' order; kernels are in --kernel order.
func (s *suite) matrix(kernels []string) []*matrixRow {
	col := map[string]int{}
	for i, k := range kernels {
		if k == hostKernel {
			k = ""
		}
		col[k] = i
	}
	var rows []*matrixRow
	index := map[[2]string]*matrixRow{}
	for i, j := range s.jobs {
		key := [2]string{j.path, versionOf(j)}
		row := index[key]
		if row == nil {
			row = &matrixRow{path: j.path, family: versionOf(j), cells: make([]*Result, len(kernels))}
			index[key] = row
			rows = append(rows, row)
		}
		row.cells[col[j.kernel]] = s.results[i]
	}
	return rows
}

func verdictOf(r *Result) string {
	switch {
	case r == nil:
		return "-"
	case r.Passed:
		return "ok"
	case r.TimedOut:
		return "TIMEOUT"
	}
	return "FAIL"
}

// differs reports whether the kernels disagree on a row's verdict.
func (r *matrixRow) differs() bool {
	for _, c := range r.cells[1:] {
		if verdictOf(c) != verdictOf(r.cells[0]) {
			return true
		}
	}
	return false
}

// writeMatrix prints, for a run over several kernels, the table script ×
// family × kernel and then only the rows where the kernels disagree, with
// each kernel's first error line: what changed between the kernels.
func (s *suite) writeMatrix(w io.Writer) {
	kernels := s.kernels
	if len(kernels) < 2 {
		return
	}
	labels := make([]string, len(kernels))
	for i, k := range kernels {
		if k == hostKernel {
			labels[i] = hostKernel
		} else {
			labels[i] = kernelLabel(k)
		}
	}
	rows := s.matrix(kernels)
	pathW, famW := len("script"), len("family")
	for _, r := range rows {
		pathW, famW = max(pathW, len(r.path)), max(famW, len(r.family))
	}
	line := fmt.Sprintf("%-*s  %-*s", pathW, "script", famW, "family")
	for _, l := range labels {
		line += "  " + l
	}
	fmt.Fprintf(w, "\n%s\n", line)
	for _, r := range rows {
		line = fmt.Sprintf("%-*s  %-*s", pathW, r.path, famW, r.family)
		for i, c := range r.cells {
			line += fmt.Sprintf("  %-*s", len(labels[i]), verdictOf(c))
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	var diff []*matrixRow
	for _, r := range rows {
		if r.differs() {
			diff = append(diff, r)
		}
	}
	if len(diff) == 0 {
		fmt.Fprintf(w, "\nno differences between the %d kernels\n", len(kernels))
		return
	}
	fmt.Fprintf(w, "\n%d of %d rows differ between the kernels:\n", len(diff), len(rows))
	for _, r := range diff {
		fmt.Fprintf(w, "%s (%s)\n", r.path, r.family)
		for i, c := range r.cells {
			line := verdictOf(c)
			if c != nil && !c.Passed {
				line = strings.TrimSpace(firstErr(c))
			}
			fmt.Fprintf(w, "  %-*s  %s\n", maxLen(labels), labels[i]+":", line)
		}
	}
}

func maxLen(ss []string) int {
	n := 0
	for _, s := range ss {
		n = max(n, len(s)+1)
	}
	return n
}
