package render

import (
	"fmt"
	"path"
	"strings"

	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Every field through which kustomize (api v0.21) loads a file or a URL,
// and how Build handles it. kustomizationFields is the list the tests
// check this walk against (TestEveryLoadingFieldIsWalked).
var kustomizationFields = []string{
	"resources", "bases", "components", "crds", "configurations", "openapi.path",
	"patches[].path", "patchesStrategicMerge[]", "patchesJson6902[].path", "replacements[].path",
	"configMapGenerator[].files", "configMapGenerator[].envs", "configMapGenerator[].env",
	"secretGenerator[].files", "secretGenerator[].envs", "secretGenerator[].env",
	"generators[]", "transformers[]", "validators[]",
	"helmCharts", "helmGlobals", "helmChartInflationGenerator",
}

// walk validates and copies everything kustomization k (file `from` in
// directory dir) refers to, and returns the estimate of its output.
func (a *assembler) walk(dir, from string, k *types.Kustomization) (*dirInfo, error) {
	info := &dirInfo{}
	if k.OpenAPI != nil {
		a.openapi = true
	}
	// resources (bases were moved into them): files and directories.
	resources := check{dir: dir}
	for _, ref := range k.Resources {
		p, isDir, err := a.locateResource(dir, from, ref)
		if err != nil {
			return nil, err
		}
		if isDir {
			sub, err := a.kustomization(p, from, false)
			if err != nil {
				return nil, err
			}
			info.addResources(sub.total())
			continue
		}
		f, err := a.readYAML(p)
		if err != nil {
			return nil, err
		}
		resources.resources = append(resources.resources, p)
		info.addResources(sizeEst{bytes: f.scan.expanded, objects: int64(f.scan.docs), largest: f.scan.largest})
	}

	a.checks = append(a.checks, resources)

	// Files kustomize parses as YAML: configuration, schemas, patches.
	var yamlFiles []string
	yamlFiles = append(yamlFiles, k.Crds...)
	yamlFiles = append(yamlFiles, k.Configurations...)
	if p, ok := k.OpenAPI["path"]; ok {
		yamlFiles = append(yamlFiles, p)
	}
	for _, ref := range yamlFiles {
		if _, _, err := a.fileRef(dir, from, ref, true); err != nil {
			return nil, err
		}
	}

	// Generators kustomize builds in (env was moved into envs).
	for _, g := range generatorArgs(k) {
		size := int64(256)
		for _, lit := range g.LiteralSources {
			size += int64(len(lit))
		}
		refs := append([]string(nil), g.EnvSources...)
		for _, src := range g.FileSources {
			if _, file, ok := parseFileSource(src); ok {
				refs = append(refs, file)
			}
		}
		for _, ref := range refs {
			_, f, err := a.fileRef(dir, from, ref, false)
			if err != nil {
				return nil, err
			}
			size += int64(len(f.data))
		}
		info.addResources(sizeEst{bytes: size * 4 / 3, objects: 1, largest: size * 4 / 3})
	}

	// Plugin generators, then components, then transformers (patches and
	// plugin transformers), in kustomize's order.
	for _, entry := range k.Generators {
		est, err := a.pluginEntry(dir, from, entry, true)
		if err != nil {
			return nil, err
		}
		info.addResources(est.base)
	}
	for _, ref := range k.Components {
		comp, err := a.componentRef(dir, from, ref)
		if err != nil {
			return nil, err
		}
		info.addResources(comp.base)
		info.steps = append(info.steps, comp.steps...)
	}
	own, err := a.patches(dir, from, k)
	if err != nil {
		return nil, err
	}
	own.perObject += metadataGrowth(k)
	own.fixed += int64(len(k.Replicas)) * 16
	info.steps = append(info.steps, own)
	for _, list := range [][]string{k.Transformers, k.Validators} {
		for _, entry := range list {
			est, err := a.pluginEntry(dir, from, entry, false)
			if err != nil {
				return nil, err
			}
			info.steps = append(info.steps, est.steps...)
		}
	}
	if len(k.Vars) > 0 {
		info.steps = append(info.steps, growth{copies: int64(len(k.Vars))})
	}
	return info, nil
}

// generatorArgs returns the configMapGenerator and secretGenerator entries
// of k.
func generatorArgs(k *types.Kustomization) []types.GeneratorArgs {
	var out []types.GeneratorArgs
	for _, g := range k.ConfigMapGenerator {
		out = append(out, g.GeneratorArgs)
	}
	for _, g := range k.SecretGenerator {
		out = append(out, g.GeneratorArgs)
	}
	return out
}

// patches walks the patch and replacement files of k and returns how they
// may grow the objects they reach.
func (a *assembler) patches(dir, from string, k *types.Kustomization) (growth, error) {
	var g growth
	// patches and patchesJson6902: a file or inline, a target selector or
	// (strategic merge only) the patch's own object.
	patchLists := [][]types.Patch{k.Patches, k.PatchesJson6902}
	for _, list := range patchLists {
		for _, p := range list {
			content := []byte(p.Patch)
			if p.Path != "" {
				_, f, err := a.fileRef(dir, from, p.Path, true)
				if err != nil {
					return growth{}, err
				}
				content = f.data
			}
			g.addPatch(content, p.Target != nil)
		}
	}
	// patchesStrategicMerge: each entry inline YAML (tried first) or a
	// file; each patch reaches the object it names.
	for _, entry := range k.PatchesStrategicMerge {
		_, inline, err := inlineEntry(string(entry))
		if err != nil {
			return growth{}, &FileError{Path: from, Err: err}
		}
		if inline {
			g.fixed += int64(len(entry))
			continue
		}
		_, f, err := a.fileRef(dir, from, string(entry), true)
		if err != nil {
			return growth{}, err
		}
		g.fixed += f.scan.expanded
	}
	for _, r := range k.Replacements {
		if r.Path == "" {
			g.copies += replacementPaths(r.Replacement)
			continue
		}
		_, f, err := a.fileRef(dir, from, r.Path, true)
		if err != nil {
			return growth{}, err
		}
		g.copies += replacementFilePaths(f.data)
	}
	return g, nil
}

// addPatch counts a patch: one reaching any object its target selects
// (perObject), or the one object it names (fixed); a JSON 6902 copy may
// double an object.
func (g *growth) addPatch(content []byte, targeted bool) {
	if targeted {
		g.perObject += int64(len(content))
	} else {
		g.fixed += int64(len(content))
	}
	g.doublings += jsonPatchCopies(content)
}

// jsonPatchCopies counts the copy operations of a JSON 6902 patch (0 for
// anything else).
func jsonPatchCopies(content []byte) int64 {
	if !strings.Contains(string(content), "copy") {
		return 0
	}
	var ops []map[string]any
	if err := yaml.Unmarshal(content, &ops); err != nil {
		return 0
	}
	var n int64
	for _, op := range ops {
		if op["op"] == "copy" {
			n++
		}
	}
	return n
}

// replacementPaths counts the target field paths of a replacement.
func replacementPaths(r types.Replacement) int64 {
	var n int64
	for _, t := range r.Targets {
		if t != nil {
			n += int64(max(len(t.FieldPaths), 1))
		}
	}
	return max(n, 1)
}

// replacementFilePaths counts the target field paths of a replacements
// file (a list of replacements, or one).
func replacementFilePaths(data []byte) int64 {
	var list []types.Replacement
	if err := yaml.Unmarshal(data, &list); err != nil {
		var one types.Replacement
		if err := yaml.Unmarshal(data, &one); err != nil {
			return 1
		}
		list = []types.Replacement{one}
	}
	var n int64
	for _, r := range list {
		n += replacementPaths(r)
	}
	return max(n, 1)
}

// metadataGrowth is what namePrefix, nameSuffix, namespace, labels,
// annotations and images may add to one object (names and labels are
// written in several places of an object: selectors, templates,
// references).
func metadataGrowth(k *types.Kustomization) int64 {
	n := 4 * int64(len(k.NamePrefix)+len(k.NameSuffix)+len(k.Namespace))
	for key, v := range k.CommonLabels {
		n += 4 * int64(len(key)+len(v)+8)
	}
	for _, l := range k.Labels {
		for key, v := range l.Pairs {
			n += 4 * int64(len(key)+len(v)+8)
		}
	}
	for key, v := range k.CommonAnnotations {
		n += 2 * int64(len(key)+len(v)+8)
	}
	for _, img := range k.Images {
		n += int64(len(img.NewName) + len(img.NewTag) + len(img.Digest))
	}
	return n
}

// pluginEntry walks one entry of generators (generator true),
// transformers or validators, relative to kustomization directory dir.
func (a *assembler) pluginEntry(dir, from, entry string, generator bool) (*dirInfo, error) {
	var configs []pluginConfig
	docs, inline, err := inlineEntry(entry)
	if err != nil {
		return nil, &FileError{Path: from, Err: err}
	}
	if inline {
		for _, d := range docs {
			configs = append(configs, pluginConfig{file: from, doc: d})
		}
	} else {
		p, isDir, err := a.locateResource(dir, from, entry)
		if err != nil {
			return nil, err
		}
		if isDir {
			if configs, err = a.configSource(p, from); err != nil {
				return nil, err
			}
		} else {
			f, err := a.readYAML(p)
			if err != nil {
				return nil, err
			}
			if configs, err = configDocs(p, f.data); err != nil {
				return nil, err
			}
		}
	}
	info := &dirInfo{}
	for _, c := range configs {
		refs, err := configFiles(c)
		if err != nil {
			return nil, err
		}
		size, copies := int64(256), int64(0)
		for _, r := range refs {
			_, f, err := a.fileRef(dir, from, r.ref, r.yamlFile)
			if err != nil {
				return nil, err
			}
			size += int64(len(f.data))
			if r.yamlFile {
				copies += jsonPatchCopies(f.data)
			}
		}
		if generator {
			info.addResources(sizeEst{bytes: size * 4 / 3, objects: 1, largest: size * 4 / 3})
		} else {
			info.steps = append(info.steps, growth{perObject: size + literalSize(c.doc), doublings: copies})
		}
	}
	return info, nil
}

// configSource walks directory p, an entry of generators, transformers or
// validators, and returns the plugin configurations its kustomization and
// those it includes provide.
func (a *assembler) configSource(p, from string) ([]pluginConfig, error) {
	if _, err := a.kustomization(p, from, false); err != nil {
		return nil, err
	}
	st := a.dirs[p]
	if st.checked {
		return st.configs, nil
	}
	if field := rewritesConfigs(st.k); field != "" {
		return nil, &FileError{Path: st.file, Err: fmt.Errorf("%w: %s in a kustomization of plugin configurations", ErrPluginRefused, field)}
	}
	st.checked = true // before recursing: a cycle is kustomize's to report
	var configs []pluginConfig
	for _, ref := range st.k.Resources {
		rp, isDir, err := a.locateResource(p, st.file, ref)
		if err != nil {
			return nil, err
		}
		if isDir {
			sub, err := a.configSource(rp, st.file)
			if err != nil {
				return nil, err
			}
			configs = append(configs, sub...)
			continue
		}
		f, err := a.readYAML(rp)
		if err != nil {
			return nil, err
		}
		docs, err := configDocs(rp, f.data)
		if err != nil {
			return nil, err
		}
		configs = append(configs, docs...)
	}
	st.configs = configs
	return configs, nil
}

// The output estimate.
//
// Before kustomize runs, Build bounds the output from what the walk saw:
// the expanded size of every resource file, counted again for every
// inclusion; generated ConfigMaps and Secrets; what patches, labels,
// prefixes and plugin transformers may add to the objects they may reach;
// and what copies (replacements, vars, JSON 6902 copy operations) may
// multiply. It is an upper bound for ordinary inputs, not a prediction.

// sizeEst estimates objects: their bytes, count and largest one.
type sizeEst struct {
	bytes, objects, largest int64
}

// growth is what one kustomization's transformations may add.
type growth struct {
	perObject int64 // bytes added to each object
	fixed     int64 // bytes added to one object
	copies    int64 // field copies per object, each up to the largest object
	doublings int64 // operations that may double an object
}

// dirInfo estimates a kustomization: its objects before its
// transformations (and its components'), and those transformations.
type dirInfo struct {
	base  sizeEst
	steps []growth
}

func (d *dirInfo) addResources(s sizeEst) {
	d.base.bytes = satAdd(d.base.bytes, s.bytes)
	d.base.objects = satAdd(d.base.objects, s.objects)
	d.base.largest = max(d.base.largest, s.largest)
}

// total applies the transformations to the objects.
func (d *dirInfo) total() sizeEst {
	s := d.base
	for _, g := range d.steps {
		s.bytes = satAdd(s.bytes, satAdd(satMul(g.perObject, s.objects), g.fixed))
		s.largest = satAdd(s.largest, satAdd(g.perObject, g.fixed))
		if g.copies > 0 {
			s.bytes = satAdd(s.bytes, satMul(satMul(s.largest, g.copies), s.objects))
			s.largest = satAdd(s.largest, satMul(s.largest, g.copies))
		}
		for range min(g.doublings, 63) {
			s.bytes, s.largest = satMul(s.bytes, 2), satMul(s.largest, 2)
		}
	}
	return s
}

const maxEstimate = int64(1) << 62

func satAdd(a, b int64) int64 { return min(a+b, maxEstimate) } // operands are at most maxEstimate

func satMul(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a > maxEstimate/b {
		return maxEstimate
	}
	return a * b
}

// wrapperTargets returns the kustomization directories the wrapper lists
// directly as resources: the targets it wraps.
func (a *assembler) wrapperTargets(dir string, k *types.Kustomization) []*dirState {
	var out []*dirState
	for _, ref := range k.Resources {
		p, err := resolveRef(dir, ref, loadResource)
		if err != nil {
			continue
		}
		if st, ok := a.dirs[path.Clean(p)]; ok && st.info != nil {
			out = append(out, st)
		}
	}
	return out
}
