package mm

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/omniar/omniar/internal/atomicfile"
)

// writeCurves writes base.json and base.png: each task's training
// cross-entropy (full-model steps), smoothed over 20 steps in the plot.
func writeCurves(base string, curves map[string]*Curve) error {
	b, err := json.MarshalIndent(curves, "", " ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(base+".json", b); err != nil {
		return err
	}
	p := plot.New()
	p.Title.Text = "unified model: training cross-entropy per task (full-model steps, 20-step mean)"
	p.X.Label.Text = "step"
	p.Y.Label.Text = "cross-entropy (nats per scored token)"
	p.Legend.Top = true
	tasks := make([]string, 0, len(curves))
	for t := range curves {
		tasks = append(tasks, t)
	}
	slices.Sort(tasks)
	for i, t := range tasks {
		c := curves[t]
		if len(c.CE) == 0 {
			continue
		}
		pts := make(plotter.XYs, len(c.CE))
		for j := range c.CE {
			pts[j].X = float64(c.Steps[j])
			pts[j].Y = mean(c.CE[max(0, j-19) : j+1])
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color = plotutil.Color(i)
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(t, l)
	}
	p.Add(plotter.NewGrid())
	return savePlot(p, base+".png", 9*vg.Inch, 5*vg.Inch)
}

func savePlot(p *plot.Plot, path string, w, h vg.Length) error {
	wt, err := p.WriterTo(w, h, "png")
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return atomicfile.Write(path, func(f io.Writer) error {
		_, err := wt.WriteTo(f)
		return err
	})
}
