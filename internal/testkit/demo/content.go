package demo

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path"
	"strings"
)

// area is a part of the monorepo that bulk files are spread over.
type area struct {
	prefix string
	weight int
	exts   []string
	binary bool // random bytes instead of text
	exec   bool // mode 100755
}

var areas = []area{
	{prefix: "dashboard/app/models", weight: 8, exts: []string{".rb"}},
	{prefix: "dashboard/app/controllers", weight: 5, exts: []string{".rb"}},
	{prefix: "dashboard/app/views", weight: 6, exts: []string{".html.haml", ".html.erb"}},
	{prefix: "dashboard/config/scripts", weight: 6, exts: []string{".script", ".json"}},
	{prefix: "dashboard/test", weight: 6, exts: []string{"_test.rb"}},
	{prefix: "dashboard/public/images", weight: 5, exts: []string{".png"}, binary: true},
	{prefix: "apps/src", weight: 14, exts: []string{".js", ".jsx", ".ts"}},
	{prefix: "apps/test/unit", weight: 6, exts: []string{".js"}},
	{prefix: "apps/static", weight: 4, exts: []string{".png", ".jpg", ".mp3"}, binary: true},
	{prefix: "pegasus/sites.v3/code.org/public", weight: 8, exts: []string{".md", ".haml"}},
	{prefix: "pegasus/sites.v3/code.org/images", weight: 3, exts: []string{".jpg"}, binary: true},
	{prefix: "lib/cdo", weight: 4, exts: []string{".rb"}},
	{prefix: "shared/css", weight: 2, exts: []string{".scss"}},
	{prefix: "shared/js", weight: 2, exts: []string{".js"}},
	{prefix: "i18n/locales", weight: 5, exts: []string{".yml", ".json"}},
	{prefix: "cookbooks/cdo-apps", weight: 3, exts: []string{".rb", ".erb"}},
	{prefix: "aws/cloudformation", weight: 1, exts: []string{".yml.erb"}},
	{prefix: "bin", weight: 1, exts: []string{""}, exec: true},
	{prefix: "docs", weight: 1, exts: []string{".md"}},
}

var areaWeight = func() int {
	n := 0
	for _, a := range areas {
		n += a.weight
	}
	return n
}()

var words = strings.Fields(`lesson unit course script level section teacher
student workshop survey certificate sprite maze artist flappy gamelab applab
weblab javalab dance poem music tutor rubric project gallery user school
district census hoc partner regional facilitator standards vocab resource
callout feedback assessment progress milestone channel storage asset library
blockly droplet toolbox palette dialog header footer account privacy parent
email export import roster lti clever pairing`)

// bulkFile is one generated application file.
type bulkFile struct {
	path    string
	id      int // index of creation; seeds the content with version
	version int
	size    int // target size of the next version
	written int // size of the version on main's tip
	binary  bool
	exec    bool
}

func (f *bulkFile) mode() string {
	if f.exec {
		return modeExec
	}
	return modeFile
}

// layout hands out unique, plausible paths for bulk files.
type layout struct {
	perDir int // files an area puts in one directory
	taken  map[string]bool
	count  []int // files placed per area
}

// newLayout spreads about files files: 4 to 40 per directory.
func newLayout(files int) *layout {
	return &layout{perDir: min(max(files/200, 4), 40), taken: map[string]bool{}, count: make([]int, len(areas))}
}

// dirName names the k-th directory of an area: words, then word/word.
func dirName(k int) string {
	if k < len(words) {
		return words[k]
	}
	return words[(k/len(words)-1)%len(words)] + "/" + words[k%len(words)]
}

// place picks a new file's area and path.
func (l *layout) place(r *rand.Rand) (string, area) {
	n := r.IntN(areaWeight)
	ai := 0
	for ; n >= areas[ai].weight; ai++ {
		n -= areas[ai].weight
	}
	a := areas[ai]
	dir := path.Join(a.prefix, dirName(l.count[ai]/l.perDir+3*ai))
	l.count[ai]++
	ext := a.exts[r.IntN(len(a.exts))]
	name := words[r.IntN(len(words))] + "_" + words[r.IntN(len(words))]
	p := path.Join(dir, name+ext)
	for i := 2; l.taken[p]; i++ {
		p = path.Join(dir, fmt.Sprintf("%s_%d%s", name, i, ext))
	}
	l.taken[p] = true
	return p, a
}

// newBulkFile creates the id-th bulk file with a size around avg.
func newBulkFile(r *rand.Rand, l *layout, id, avg int) *bulkFile {
	p, a := l.place(r)
	f := &bulkFile{path: p, id: id, binary: a.binary, exec: a.exec}
	if a.binary {
		f.size = avg + r.IntN(avg*10/3) // mean 2.67 avg
	} else {
		f.size = avg/10 + r.IntN(avg) // mean 0.6 avg
	}
	return f
}

// bodyGen produces file contents; it reuses its buffers.
type bodyGen struct {
	seed     int64
	raw, out []byte
}

// body returns the content of version v of f, deterministic in the world's
// seed, f.id and v: random bytes for binaries, comment-headed lines of
// base64 text otherwise (compressible only as much as base64 is). The
// result is valid until the next call.
func (g *bodyGen) body(f *bulkFile, v int) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[0:], uint64(g.seed))
	binary.LittleEndian.PutUint64(key[8:], uint64(f.id))
	binary.LittleEndian.PutUint64(key[16:], uint64(v))
	copy(key[24:], "railyard")
	src := rand.NewChaCha8(key)
	if f.binary {
		g.out = grow(g.out, f.size)
		src.Read(g.out)
		copy(g.out, binaryMagic(f.path))
		return g.out
	}
	g.out = g.out[:0]
	if f.exec {
		g.out = append(g.out, "#!/usr/bin/env ruby\n"...)
	}
	g.out = fmt.Appendf(g.out, "%s %s (revision %d)\n", commentPrefix(f.path), f.path, v)
	const line = 76 // base64 characters per line
	n := max(f.size-len(g.out), line+1) / (line + 1) * line * 3 / 4
	g.raw = grow(g.raw, n)
	src.Read(g.raw)
	for i := 0; i < n; i += line * 3 / 4 {
		chunk := g.raw[i:min(i+line*3/4, n)]
		g.out = base64.StdEncoding.AppendEncode(g.out, chunk)
		g.out = append(g.out, '\n')
	}
	return g.out
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

func binaryMagic(p string) string {
	switch path.Ext(p) {
	case ".png":
		return "\x89PNG\r\n\x1a\n"
	case ".jpg":
		return "\xff\xd8\xff\xe0"
	case ".mp3":
		return "ID3\x04"
	}
	return ""
}

func commentPrefix(p string) string {
	switch path.Ext(p) {
	case ".js", ".jsx", ".ts", ".scss", ".json":
		return "//"
	}
	return "#"
}
