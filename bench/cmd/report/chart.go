package main

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// chartWidth is the width of benchmarks.png in pixels; the height grows with
// the number of areas.
const (
	chartWidth = 1200
	chartDPI   = 96
	panelPx    = 340 // height of a row of panels
	headerPx   = 150 // title and legend

	curveHeaderPx = 40  // the title of the scaling curves
	curvePanelPx  = 260 // height of a row of scaling panels
)

// implColors gives every implementation the same colour in every panel:
// greys for floors, blues for weft, distinct colours for peers.
var implColors = map[string]color.RGBA{
	"floor":                   {90, 90, 90, 255},
	"floor-channel64":         {90, 90, 90, 255},
	"floor-chunked":           {90, 90, 90, 255},
	"floor-len":               {90, 90, 90, 255},
	"floor-channel":           {125, 125, 125, 255},
	"floor-items":             {150, 150, 150, 255},
	"floor-send":              {150, 150, 150, 255},
	"floor-goroutines":        {150, 150, 150, 255},
	"floor-select":            {195, 195, 195, 255},
	"floor-in-process":        {90, 90, 90, 255},
	"floor-in-process-socket": {170, 170, 170, 255},
	"weft":                    {31, 119, 180, 255},
	"weft-ticket":             {110, 170, 225, 255},
	"weft-forced":             {15, 60, 120, 255},
	"weft-gc-off":             {160, 200, 235, 255},
	"weft-workers":            {110, 170, 225, 255},
	"errgroup":                {255, 127, 14, 255},
	"ants":                    {44, 160, 44, 255},
	"pond":                    {214, 39, 40, 255},
	"pond-group":              {240, 130, 130, 255},
	"conc":                    {148, 103, 189, 255},
	"gobreaker":               {140, 86, 75, 255},
	"failsafe":                {227, 119, 194, 255},
	"failsafe-permit":         {245, 180, 220, 255},
	"backoff":                 {188, 189, 34, 255},
	"retry-go":                {23, 190, 207, 255},
	"go-retry":                {255, 187, 120, 255},
	"singleflight":            {0, 128, 128, 255},
	"singleflight-chan":       {102, 194, 165, 255},
	"nats-messages":           {230, 171, 2, 255},
	"nats-consume":            {102, 102, 0, 255},
}

func implColor(name string, i int) color.Color {
	if c, ok := implColors[name]; ok {
		return c
	}
	return plotutil.Color(i)
}

// WriteChart draws benchmarks.png: a panel per area, a group of bars per
// workload, a bar per implementation, whose height is the implementation's
// median over the floor's on a log scale (bars grow up from 1× when slower
// than the floor and down when faster).
func WriteChart(w io.Writer, run *Run) error {
	var panels []*plot.Plot
	var legend []legendEntry
	seen := map[string]bool{}
	for _, a := range run.Areas {
		p, err := areaPanel(a, func(name string, thumb plot.Thumbnailer) {
			if !seen[name] {
				seen[name] = true
				legend = append(legend, legendEntry{name, thumb})
			}
		})
		if err != nil {
			return err
		}
		if p != nil {
			panels = append(panels, p)
		}
	}
	if len(panels) == 0 {
		return fmt.Errorf("chart: no workload has a floor to compare with")
	}
	var curves []*plot.Plot
	for _, a := range run.Areas {
		for _, wl := range a.Workloads {
			p, err := scalingPanel(run, wl)
			if err != nil {
				return err
			}
			if p != nil {
				curves = append(curves, p)
			}
		}
	}
	grid := gridOf(panels, 2)
	curveGrid := gridOf(curves, 3)

	px := func(n int) vg.Length { return vg.Length(n) * vg.Inch / chartDPI }
	bodyPx := len(grid) * panelPx
	curvesPx := 0
	if len(curveGrid) > 0 {
		curvesPx = curveHeaderPx + len(curveGrid)*curvePanelPx
	}
	height := headerPx + bodyPx + curvesPx
	img := vgimg.NewWith(vgimg.UseWH(px(chartWidth), px(height)), vgimg.UseDPI(chartDPI))
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())

	// Title and legend.
	header := draw.Crop(dc, 0, 0, px(height-headerPx), 0)
	title := plot.New().Title.TextStyle
	title.Font.Size = vg.Points(15)
	title.XAlign = draw.XCenter
	title.YAlign = draw.YTop
	header.FillText(title, vg.Point{X: header.Center().X, Y: header.Max.Y - px(8)},
		"weft benchmarks: each implementation's median over the floor's (log scale; 1× = floor, lower is better)")
	drawLegend(draw.Crop(header, px(20), -px(20), px(5), -px(40)), legend)

	body := draw.Crop(dc, 0, 0, px(curvesPx), -px(headerPx))
	drawGrid(body, grid, px)
	if len(curveGrid) > 0 {
		lower := draw.Crop(dc, 0, 0, 0, -px(headerPx+bodyPx))
		sub := plot.New().Title.TextStyle
		sub.Font.Size = vg.Points(13)
		sub.XAlign = draw.XCenter
		sub.YAlign = draw.YTop
		lower.FillText(sub, vg.Point{X: lower.Center().X, Y: lower.Max.Y - px(10)},
			"Scaling: time per unit at each GOMAXPROCS (log scale; lower is better)")
		drawGrid(draw.Crop(lower, 0, 0, 0, -px(curveHeaderPx)), curveGrid, px)
	}
	_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}

// gridOf lays panels out in rows of cols.
func gridOf(panels []*plot.Plot, cols int) [][]*plot.Plot {
	rows := (len(panels) + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*plot.Plot, cols)
		for c := range cols {
			if i := r*cols + c; i < len(panels) {
				grid[r][c] = panels[i]
			}
		}
	}
	return grid
}

// drawGrid draws grid's panels, aligned, on c.
func drawGrid(c draw.Canvas, grid [][]*plot.Plot, px func(int) vg.Length) {
	if len(grid) == 0 {
		return
	}
	tiles := draw.Tiles{Rows: len(grid), Cols: len(grid[0]), PadX: px(30), PadY: px(20), PadLeft: px(10), PadRight: px(15), PadBottom: px(10), PadTop: px(5)}
	canvases := plot.Align(grid, tiles, c)
	for r := range grid {
		for col, p := range grid[r] {
			if p != nil {
				p.Draw(canvases[r][col])
			}
		}
	}
}

// scalingPanel draws one workload measured at more than one GOMAXPROCS: a
// line per implementation through its median time per unit at each, or nil
// if the workload has no such implementation.
func scalingPanel(run *Run, w *Workload) (*plot.Plot, error) {
	if len(run.CPUs) < 2 || !w.scaled() {
		return nil, nil
	}
	unit := w.Area.curveUnit()
	p := plot.New()
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, im := range w.Impls {
		var pts plotter.XYs
		for _, n := range run.CPUs {
			if v, ok := im.ByProcs[n][unit]; ok && v > 0 {
				y := math.Log10(v)
				pts = append(pts, plotter.XY{X: float64(n), Y: y})
				lo, hi = math.Min(lo, y), math.Max(hi, y)
			}
		}
		if len(pts) < 2 {
			continue
		}
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		c := implColor(im.Name, i)
		l.Color, sc.Color = c, c
		l.Width = vg.Points(1.5)
		if im.IsWeft() {
			l.Width = vg.Points(3)
		}
		if im.IsFloor() {
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		sc.Shape = draw.CircleGlyph{}
		p.Add(l, sc)
	}
	if math.IsInf(lo, 1) {
		return nil, nil
	}
	p.Title.Text = fmt.Sprintf("%s/%s: %s", w.Area.Name, w.Name, unit)
	p.Title.TextStyle.Font.Size = vg.Points(10)
	p.X.Label.Text = "GOMAXPROCS"
	var ticks []plot.Tick
	for _, n := range run.CPUs {
		ticks = append(ticks, plot.Tick{Value: float64(n), Label: strconv.Itoa(n)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	first, last := float64(run.CPUs[0]), float64(run.CPUs[len(run.CPUs)-1])
	p.X.Min, p.X.Max = first-(last-first)*0.1, last+(last-first)*0.1
	pad := math.Max(0.1, (hi-lo)*0.08)
	p.Y.Min, p.Y.Max = lo-pad, hi+pad
	p.Y.Tick.Marker = valueTicks{}
	p.Add(plotter.NewGrid())
	return p, nil
}

// valueTicks labels a log10 axis with the values: 1, 2, 5, 10, 20...
type valueTicks struct{}

func (valueTicks) Ticks(min, max float64) []plot.Tick {
	ts := logTicks{}.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = fmtNum(math.Pow(10, ts[i].Value))
		}
	}
	return ts
}

// legendEntry is an implementation and the thumbnail of its bars.
type legendEntry struct {
	name  string
	thumb plot.Thumbnailer
}

// drawLegend draws the entries in columns of five across c.
func drawLegend(c draw.Canvas, entries []legendEntry) {
	const perCol = 5
	n := len(entries)
	if n == 0 {
		return
	}
	cols := (n + perCol - 1) / perCol
	width := (c.Max.X - c.Min.X) / vg.Length(cols)
	for i := range cols {
		sub := plot.NewLegend()
		sub.Top, sub.Left = true, true
		sub.TextStyle.Font.Size = vg.Points(11)
		for _, e := range entries[i*perCol : min((i+1)*perCol, n)] {
			sub.Add(e.name, e.thumb)
		}
		cc := draw.Crop(c, width*vg.Length(i), -(width * vg.Length(cols-1-i)), 0, 0)
		sub.Draw(cc)
	}
}

// areaPanel draws one area: x is the workloads, y the log10 of the ratio
// to the floor. add is told the thumbnail of each implementation it draws.
func areaPanel(a *Area, add func(string, plot.Thumbnailer)) (*plot.Plot, error) {
	p := plot.New()
	unit := a.PrimaryUnit()
	floorName := ""
	var ticks []plot.Tick
	x := 0.0
	lo, hi := 0.0, 0.0
	colorIndex := map[string]int{}
	bars := 0
	for _, w := range a.Workloads {
		f := w.Floor()
		if f == nil {
			continue
		}
		if floorName == "" {
			floorName = f.Name
		}
		start := x
		for _, im := range w.Impls {
			r, ok := w.Ratio(im)
			if !ok || r <= 0 {
				continue
			}
			if _, ok := colorIndex[im.Name]; !ok {
				colorIndex[im.Name] = len(colorIndex)
			}
			y := math.Log10(r)
			lo, hi = math.Min(lo, y), math.Max(hi, y)
			poly, err := plotter.NewPolygon(plotter.XYs{{X: x + 0.1, Y: 0}, {X: x + 0.9, Y: 0}, {X: x + 0.9, Y: y}, {X: x + 0.1, Y: y}})
			if err != nil {
				return nil, err
			}
			poly.Color = implColor(im.Name, colorIndex[im.Name])
			poly.LineStyle.Width = 0
			p.Add(poly)
			add(im.Name, poly)
			x++
			bars++
		}
		label := strings.ReplaceAll(w.Name, "/", "\n")
		if label == "" {
			label = a.Name
		}
		ticks = append(ticks, plot.Tick{Value: (start + x) / 2, Label: label})
		x += 0.8 // gap between groups
	}
	if bars == 0 {
		return nil, nil
	}
	one, err := plotter.NewLine(plotter.XYs{{X: -0.3, Y: 0}, {X: x - 0.5, Y: 0}})
	if err != nil {
		return nil, err
	}
	one.LineStyle.Width = vg.Points(0.8)
	one.LineStyle.Color = color.Black
	p.Add(one)

	p.Title.Text = fmt.Sprintf("%s: %s ÷ %s's (the line at 1×)", a.Name, unit, floorName)
	p.Title.TextStyle.Font.Size = vg.Points(12)
	p.Y.Label.Text = "× the floor (log)"
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Tick.Label.Font.Size = vg.Points(9)
	p.X.Tick.Length = 0
	// Few bars would each be as wide as a quarter of the panel: give the
	// axis room for at least minSlots.
	const minSlots = 8
	p.X.Min, p.X.Max = -0.3, x-0.5
	if extra := minSlots - (p.X.Max - p.X.Min); extra > 0 {
		p.X.Min -= extra / 2
		p.X.Max += extra / 2
	}
	pad := math.Max(0.1, (hi-lo)*0.08)
	p.Y.Min, p.Y.Max = lo-pad, hi+pad
	p.Y.Tick.Marker = logTicks{}
	p.Add(plotter.NewGrid())
	return p, nil
}

// logTicks labels a log10 axis with ratios: 0.1×, 0.5×, 1×, 2×, 10×...
type logTicks struct{}

// Ticks returns the ticks of the ratios 1, 2 and 5 of each decade between
// min and max, labelled, or of 1 alone when the range is wide.
func (logTicks) Ticks(min, max float64) []plot.Tick {
	steps := []float64{1, 2, 5}
	if max-min > 2.5 {
		steps = []float64{1}
	}
	var ts []plot.Tick
	for d := math.Floor(min); d <= math.Ceil(max); d++ {
		for _, s := range steps {
			v := math.Log10(s) + d
			if v < min || v > max {
				continue
			}
			ts = append(ts, plot.Tick{Value: v, Label: strconv.FormatFloat(s*math.Pow10(int(d)), 'g', 3, 64) + "×"})
		}
	}
	return ts
}
