package compat

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
)

// Tally counts one group of rows.
type Tally struct {
	Runs, Compared, Agree, GodrillPass, RefPass int
}

// Percent is the share of runs with equal verdicts among the runs both
// programs made.
func (t Tally) Percent() float64 {
	if t.Compared == 0 {
		return 0
	}
	return 100 * float64(t.Agree) / float64(t.Compared)
}

// Disagree is how many runs both programs made with different verdicts.
func (t Tally) Disagree() int { return t.Compared - t.Agree }

func (t *Tally) add(r Row) {
	t.Runs++
	if r.Compared() {
		t.Compared++
	}
	if r.Agree() {
		t.Agree++
	}
	if r.Godrill.Verdict == Pass {
		t.GodrillPass++
	}
	if r.Reference.Verdict == Pass {
		t.RefPass++
	}
}

// Report prints the agreement table (per corpus and variant, then the
// total) and every disagreement with both programs' first error line.
func Report(w io.Writer, rows []Row) Tally {
	type key struct{ corpus, variant string }
	groups := map[key]*Tally{}
	var keys []key
	var total Tally
	for _, r := range rows {
		k := key{r.Job.Corpus, r.Job.Variant.Name}
		if groups[k] == nil {
			groups[k] = &Tally{}
			keys = append(keys, k)
		}
		groups[k].add(r)
		total.add(r)
	}
	sort.SliceStable(keys, func(i, j int) bool { return keys[i].corpus < keys[j].corpus })
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "corpus\tvariant\truns\tgodrill pass\treference pass\tagree\t%\t")
	for _, k := range keys {
		t := groups[k]
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%.1f\t\n", k.corpus, k.variant, t.Runs, t.GodrillPass, t.RefPass, t.Agree, t.Percent())
	}
	fmt.Fprintf(tw, "total\t\t%d\t%d\t%d\t%d\t%.1f\t\n", total.Runs, total.GodrillPass, total.RefPass, total.Agree, total.Percent())
	tw.Flush()
	if n := total.Runs - total.Compared; n > 0 {
		fmt.Fprintf(w, "\n%d runs not compared (a program did not run them); %% is over the %d compared\n", n, total.Compared)
	}
	var bad []Row
	for _, r := range rows {
		if r.Compared() && !r.Agree() {
			bad = append(bad, r)
		}
	}
	if len(bad) > 0 {
		fmt.Fprintf(w, "\n%d disagreements:\n", len(bad))
		for _, r := range bad {
			fmt.Fprintf(w, "%s/%s %s: godrill %s, reference %s\n", r.Job.Corpus, r.Job.Rel, r.Job.Variant.Name, r.Godrill.Verdict, r.Reference.Verdict)
			if s := r.Godrill.Summary(); s != "" {
				fmt.Fprintf(w, "    godrill:   %s\n", s)
			}
			if s := r.Reference.Summary(); s != "" {
				fmt.Fprintf(w, "    reference: %s\n", s)
			}
		}
	}
	return total
}
