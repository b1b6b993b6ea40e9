package bench

// Charts for docs/benchmarks.md, drawn with the standard library's image
// and image/png and the fixed 7×13 font of golang.org/x/image: a bar chart
// with min–max whiskers and a line chart are a page of code, where a
// plotting library would bring a dozen modules into the build for two
// pictures.

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Bar is one bar: its value and the spread drawn as a whisker.
type Bar struct {
	Label         string
	Value, Lo, Hi float64
}

// RefLine is a horizontal line across a chart (a budget, or 1.0).
type RefLine struct {
	Y     float64
	Label string
}

// BarChart is bars with whiskers, one per configuration.
type BarChart struct {
	Title         string
	Bars          []Bar
	Lines         []RefLine
	Width, Height int
}

// Series is one line of a LineChart.
type Series struct {
	Name string
	X, Y []float64
}

// LineChart is lines through points, with a legend.
type LineChart struct {
	Title, XLabel string
	Series        []Series
	Lines         []RefLine
	Width, Height int
}

var (
	chartInk  = color.RGBA{0x20, 0x20, 0x20, 0xff}
	chartGrid = color.RGBA{0xe0, 0xe0, 0xe0, 0xff}
	chartRef  = color.RGBA{0xc0, 0x30, 0x30, 0xff}
	palette   = []color.RGBA{
		{0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff}, {0x2c, 0xa0, 0x2c, 0xff},
		{0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff}, {0x17, 0xbe, 0xcf, 0xff},
	}
)

// canvas is a white image with a plot area and its value ranges.
type canvas struct {
	img                    *image.RGBA
	left, right, top, bot  int // plot area in pixels
	xmin, xmax, ymin, ymax float64
}

const (
	marginLeft   = 64
	marginRight  = 24
	marginTop    = 32
	marginBottom = 48
)

func newCanvas(w, h int, title string) (*canvas, error) {
	if w < 200 || h < 150 {
		return nil, fmt.Errorf("chart %dx%d: want at least 200x150", w, h)
	}
	c := &canvas{img: image.NewRGBA(image.Rect(0, 0, w, h)),
		left: marginLeft, right: w - marginRight, top: marginTop, bot: h - marginBottom}
	draw.Draw(c.img, c.img.Bounds(), image.White, image.Point{}, draw.Src)
	c.text(w/2, 18, title, chartInk, 0)
	return c, nil
}

// text draws s with its baseline at y: centred on x (align 0), ending at
// x (align 1) or starting at x (align -1).
func (c *canvas) text(x, y int, s string, col color.Color, align int) {
	d := font.Drawer{Dst: c.img, Src: image.NewUniform(col), Face: basicfont.Face7x13}
	width := d.MeasureString(s).Round()
	switch align {
	case 0:
		x -= width / 2
	case 1:
		x -= width
	}
	d.Dot = fixed.P(x, y)
	d.DrawString(s)
}

func (c *canvas) rect(x0, y0, x1, y1 int, col color.Color) {
	draw.Draw(c.img, image.Rect(x0, y0, x1, y1).Canon(), image.NewUniform(col), image.Point{}, draw.Src)
}

// line draws a segment of the given width; dash > 0 leaves gaps.
func (c *canvas) line(x0, y0, x1, y1 int, col color.Color, width, dash int) {
	steps := max(math.Abs(float64(x1-x0)), math.Abs(float64(y1-y0)), 1)
	for i := 0; i <= int(steps); i++ {
		if dash > 0 && (i/dash)%2 == 1 {
			continue
		}
		t := float64(i) / steps
		x := x0 + int(math.Round(t*float64(x1-x0)))
		y := y0 + int(math.Round(t*float64(y1-y0)))
		c.rect(x-width/2, y-width/2, x-width/2+width, y-width/2+width, col)
	}
}

func (c *canvas) px(x float64) int {
	return c.left + int(math.Round((x-c.xmin)/(c.xmax-c.xmin)*float64(c.right-c.left)))
}

func (c *canvas) py(y float64) int {
	return c.bot - int(math.Round((y-c.ymin)/(c.ymax-c.ymin)*float64(c.bot-c.top)))
}

// yAxis picks the value range (lo..hi padded to nice ticks) and draws the
// grid, the tick labels and the frame.
func (c *canvas) yAxis(lo, hi float64) {
	c.ymin, c.ymax, _ = niceRange(lo, hi)
	_, _, step := niceRange(lo, hi)
	for v := c.ymin; v <= c.ymax+step/2; v += step {
		y := c.py(v)
		c.line(c.left, y, c.right, y, chartGrid, 1, 0)
		c.text(c.left-6, y+4, formatTick(v, step), chartInk, 1)
	}
	c.line(c.left, c.top, c.left, c.bot, chartInk, 1, 0)
	c.line(c.left, c.bot, c.right, c.bot, chartInk, 1, 0)
}

func (c *canvas) refLines(lines []RefLine) {
	for _, l := range lines {
		y := c.py(l.Y)
		c.line(c.left, y, c.right, y, chartRef, 1, 4)
		c.text(c.right-2, y-3, l.Label, chartRef, 1)
	}
}

// niceRange widens lo..hi to multiples of a step of 1, 2 or 5 × 10^k
// giving about five intervals.
func niceRange(lo, hi float64) (nlo, nhi, step float64) {
	if hi <= lo {
		hi = lo + 1
	}
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step = 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if raw <= m*mag {
			step = m * mag
			break
		}
	}
	return math.Floor(lo/step) * step, math.Ceil(hi/step) * step, step
}

func formatTick(v, step float64) string {
	digits := max(0, -int(math.Floor(math.Log10(step))))
	return strconv.FormatFloat(v, 'f', digits, 64)
}

func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// PNG draws the chart.
func (b BarChart) PNG() ([]byte, error) {
	if len(b.Bars) == 0 {
		return nil, fmt.Errorf("bar chart %q: no bars", b.Title)
	}
	c, err := newCanvas(b.Width, b.Height, b.Title)
	if err != nil {
		return nil, err
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, bar := range b.Bars {
		lo, hi = min(lo, bar.Lo, bar.Value), max(hi, bar.Hi, bar.Value)
	}
	for _, l := range b.Lines {
		lo, hi = min(lo, l.Y), max(hi, l.Y)
	}
	// Bars start at the axis floor: a ratio chart near 1 shows its
	// differences instead of a row of equal-looking columns.
	pad := (hi - lo) * 0.1
	if pad == 0 {
		pad = math.Max(math.Abs(hi)*0.1, 0.1)
	}
	c.yAxis(lo-pad, hi+pad)
	slot := float64(c.right-c.left) / float64(len(b.Bars))
	for i, bar := range b.Bars {
		mid := c.left + int(slot*(float64(i)+0.5))
		half := int(slot * 0.3)
		c.rect(mid-half, c.py(bar.Value), mid+half, c.bot, palette[i%len(palette)])
		// The whisker: min to max of the rounds.
		c.line(mid, c.py(bar.Lo), mid, c.py(bar.Hi), chartInk, 2, 0)
		c.line(mid-half/3, c.py(bar.Lo), mid+half/3, c.py(bar.Lo), chartInk, 2, 0)
		c.line(mid-half/3, c.py(bar.Hi), mid+half/3, c.py(bar.Hi), chartInk, 2, 0)
		c.text(mid, c.bot+16, bar.Label, chartInk, 0)
		c.text(mid, c.bot+32, strconv.FormatFloat(bar.Value, 'f', 3, 64), chartInk, 0)
	}
	c.refLines(b.Lines)
	return encodePNG(c.img)
}

// PNG draws the chart.
func (l LineChart) PNG() ([]byte, error) {
	if len(l.Series) == 0 {
		return nil, fmt.Errorf("line chart %q: no series", l.Title)
	}
	c, err := newCanvas(l.Width, l.Height, l.Title)
	if err != nil {
		return nil, err
	}
	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range l.Series {
		if len(s.X) != len(s.Y) || len(s.X) == 0 {
			return nil, fmt.Errorf("line chart %q: series %q has %d x and %d y values", l.Title, s.Name, len(s.X), len(s.Y))
		}
		for i := range s.X {
			xlo, xhi, ylo, yhi = min(xlo, s.X[i]), max(xhi, s.X[i]), min(ylo, s.Y[i]), max(yhi, s.Y[i])
		}
	}
	for _, r := range l.Lines {
		ylo, yhi = min(ylo, r.Y), max(yhi, r.Y)
	}
	c.yAxis(min(ylo, 0), yhi+(yhi-min(ylo, 0))*0.1)
	var step float64
	c.xmin, c.xmax, step = niceRange(xlo, xhi)
	for v := c.xmin; v <= c.xmax+step/2; v += step {
		x := c.px(v)
		c.line(x, c.bot, x, c.bot+4, chartInk, 1, 0)
		c.text(x, c.bot+16, formatTick(v, step), chartInk, 0)
	}
	c.text((c.left+c.right)/2, c.bot+36, l.XLabel, chartInk, 0)
	c.refLines(l.Lines)
	for i, s := range l.Series {
		col := palette[i%len(palette)]
		for j := range s.X {
			x, y := c.px(s.X[j]), c.py(s.Y[j])
			c.rect(x-3, y-3, x+4, y+4, col)
			if j > 0 {
				c.line(c.px(s.X[j-1]), c.py(s.Y[j-1]), x, y, col, 2, 0)
			}
		}
		// The legend, top left inside the plot.
		ly := c.top + 14 + 16*i
		c.rect(c.left+10, ly-8, c.left+22, ly+2, col)
		c.text(c.left+28, ly+2, s.Name, chartInk, -1)
	}
	return encodePNG(c.img)
}
