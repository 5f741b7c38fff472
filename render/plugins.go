package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/railyard-gitops/railyard/internal/redact"

	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Generators, transformers and validators.
//
// Each entry of a kustomization's generators, transformers and validators
// lists is either inline YAML (kustomize tries that first) or a reference
// loaded like a resource: a file of plugin configurations, or a directory
// whose kustomization's resources are plugin configurations. Build runs
// only kustomize's builtins (apiVersion "builtin"): any other
// configuration is a plugin or function and is refused (ErrPluginRefused),
// as is Helm (ErrHelmRefused). The builtins that load files load them
// through the loader of the kustomization holding the list, whatever file
// or directory the configuration came from, so the paths they name are
// resolved, checked and copied relative to that kustomization:
//
//	ConfigMapGenerator, SecretGenerator   files ([key=]path), envs
//	PatchTransformer                      path
//	PatchJson6902Transformer              path
//	PatchStrategicMergeTransformer        paths (each inline YAML or a path)
//	ReplacementTransformer                replacements[].path
//	ValueAddTransformer                   targetFilePath
//	HelmChartInflationGenerator           refused
//
// A directory of configurations is built by kustomize before its
// configurations are used, so its own patches, replacements, vars,
// configurations, crds, components, generators, transformers or
// validators could rewrite a configuration after Build checked it. Such a
// directory is refused (ErrPluginRefused); the metadata transformers
// (namePrefix, namespace, labels without custom fields, ...) cannot reach
// the fields that name files and are allowed.

// builtinAPIVersion is the apiVersion of kustomize's builtin plugins.
const builtinAPIVersion = "builtin"

// builtinKinds are the kinds kustomize builds in (builtinhelpers).
var builtinKinds = map[string]bool{
	"AnnotationsTransformer": true, "ConfigMapGenerator": true, "IAMPolicyGenerator": true,
	"HashTransformer": true, "ImageTagTransformer": true, "LabelTransformer": true,
	"NamespaceTransformer": true, "PatchJson6902Transformer": true,
	"PatchStrategicMergeTransformer": true, "PatchTransformer": true,
	"PrefixSuffixTransformer": true, "PrefixTransformer": true, "SuffixTransformer": true,
	"ReplicaCountTransformer": true, "SecretGenerator": true, "ValueAddTransformer": true,
	"HelmChartInflationGenerator": true, "ReplacementTransformer": true,
}

// pluginConfig is one plugin configuration document, with the file it
// came from (for errors).
type pluginConfig struct {
	file string
	doc  *yaml.Node // a mapping
}

// inlineFactory parses inline entries as kustomize does. Its
// RNodesFromBytes only uses kyaml (no OpenAPI schema, no global state),
// so it is safe outside the kustomize lock.
var inlineFactory = resource.NewFactory(nil)

// parseInline reports whether kustomize reads entry, an item of
// generators, transformers, validators or patchesStrategicMerge, as inline
// YAML objects rather than a path, and returns the objects. kustomize
// decides by parsing it into a ResMap: it is inline when it is
// well-formed YAML whose every non-empty document is an object with a
// kind and a name (lists expanded) and no two objects share an id (a
// path such as "patch.yaml" is a string, not an object).
func parseInline(entry string) ([]*yaml.Node, bool) {
	if plainPath(entry) {
		return nil, false
	}
	nodes, err := inlineFactory.RNodesFromBytes([]byte(entry))
	if err != nil {
		return nil, false
	}
	docs := make([]*yaml.Node, 0, len(nodes))
	seen := map[resID]bool{}
	for _, n := range nodes {
		ns := n.GetNamespace()
		if ns == "" {
			ns = "default"
		}
		id := resID{APIVersion: n.GetApiVersion(), Kind: n.GetKind(), Namespace: ns, Name: n.GetName()}
		if seen[id] {
			return nil, false // kustomize's ResMap refuses the second
		}
		seen[id] = true
		docs = append(docs, n.YNode())
	}
	return docs, true
}

// plainPath reports whether entry is certainly not inline, without
// parsing it: a single plain YAML scalar of path characters that is not
// null is a non-empty document that is not an object, which kustomize
// refuses as inline YAML. Most entries are such paths ("patch.yaml",
// "../generators"); FuzzParseInline holds this to kustomize.
func plainPath(entry string) bool {
	if entry == "" || entry[0] == '-' || strings.HasPrefix(entry, "...") || strings.EqualFold(entry, "null") {
		return false
	}
	for i := range len(entry) {
		switch c := entry[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '/', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// inlineEntry is parseInline, refusing an entry that would also be a
// remote reference: where Build's notion of inline and kustomize's could
// differ (objects kustomize finds duplicate only by knowing which kinds
// are cluster-scoped), kustomize would load the entry as a reference.
func inlineEntry(entry string) ([]*yaml.Node, bool, error) {
	docs, inline := parseInline(entry)
	if inline && (isRemoteFile(entry) || isGitRepoSpec(entry)) {
		return nil, false, fmt.Errorf("%w: an inline entry that is also a remote reference: %q", ErrRemote, redact.URLs(entry))
	}
	return docs, inline, nil
}

// isNull reports whether n is an empty document or a null scalar.
func isNull(n *yaml.Node) bool {
	switch n.Kind {
	case 0:
		return true
	case yaml.DocumentNode:
		return len(n.Content) == 0
	case yaml.ScalarNode:
		return n.Tag == "!!null"
	}
	return false
}

// stringField returns the scalar value of key in mapping m.
func stringField(m *yaml.Node, key string) (string, bool) {
	n := field(m, key)
	if n == nil || n.Kind != yaml.ScalarNode {
		return "", false
	}
	return n.Value, true
}

// configDocs parses the plugin configurations of a file.
func configDocs(file string, data []byte) ([]pluginConfig, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []pluginConfig
	for {
		doc := new(yaml.Node)
		err := dec.Decode(doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, &FileError{Path: file, Err: fmt.Errorf("%w: %v", ErrInvalidYAML, err)}
		}
		if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
			doc = doc.Content[0]
		}
		if isNull(doc) {
			continue
		}
		if doc.Kind != yaml.MappingNode {
			// kustomize fails on it: nothing to check.
			continue
		}
		out = append(out, pluginConfig{file: file, doc: doc})
	}
}

// configRef is a file a builtin's configuration names, with how
// kustomize loads it.
type configRef struct {
	ref      string
	yamlFile bool // kustomize parses it as YAML
}

// configFiles checks that c is a builtin kustomize runs in process and
// returns the files its configuration names. A configuration kustomize
// rejects returns no files: kustomize fails before loading any.
func configFiles(c pluginConfig) ([]configRef, error) {
	apiVersion, _ := stringField(c.doc, "apiVersion")
	kind, _ := stringField(c.doc, "kind")
	if apiVersion != builtinAPIVersion {
		return nil, &FileError{Path: c.file, Err: fmt.Errorf("%w: %s %s is not a kustomize builtin", ErrPluginRefused, apiVersion, kind)}
	}
	if kind == "HelmChartInflationGenerator" {
		return nil, &FileError{Path: c.file, Err: ErrHelmRefused}
	}
	var refs []configRef
	strs := func(key string) []string {
		n := field(c.doc, key)
		if n == nil || n.Kind != yaml.SequenceNode {
			return nil
		}
		var out []string
		for _, item := range n.Content {
			if item.Kind == yaml.ScalarNode {
				out = append(out, item.Value)
			}
		}
		return out
	}
	str := func(m *yaml.Node, key string) {
		if v, ok := stringField(m, key); ok && v != "" {
			refs = append(refs, configRef{ref: v, yamlFile: true})
		}
	}
	switch kind {
	case "ConfigMapGenerator", "SecretGenerator":
		for _, env := range strs("envs") {
			refs = append(refs, configRef{ref: env})
		}
		for _, f := range strs("files") {
			if _, file, ok := parseFileSource(f); ok {
				refs = append(refs, configRef{ref: file})
			}
		}
	case "PatchTransformer", "PatchJson6902Transformer":
		str(c.doc, "path")
	case "ValueAddTransformer":
		str(c.doc, "targetFilePath")
	case "PatchStrategicMergeTransformer":
		for _, p := range strs("paths") {
			_, inline, err := inlineEntry(p)
			if err != nil {
				return nil, &FileError{Path: c.file, Err: err}
			}
			if !inline {
				refs = append(refs, configRef{ref: p, yamlFile: true})
			}
		}
	case "ReplacementTransformer":
		if n := field(c.doc, "replacements"); n != nil && n.Kind == yaml.SequenceNode {
			for _, r := range n.Content {
				if r.Kind == yaml.MappingNode {
					str(r, "path")
				}
			}
		}
	}
	return refs, nil
}

// parseFileSource splits a generator's file source "[key=]path" as
// kustomize does; ok is false where kustomize refuses the source (and so
// loads nothing).
func parseFileSource(source string) (key, file string, ok bool) {
	switch n := strings.Count(source, "="); {
	case n == 0:
		return "", source, true
	case n > 1 || strings.HasPrefix(source, "=") || strings.HasSuffix(source, "="):
		return "", "", false
	}
	key, file, _ = strings.Cut(source, "=")
	return key, file, true
}

// rewritesConfigs names the first field of k that can rewrite the plugin
// configurations k's directory provides, or returns "".
func rewritesConfigs(k *types.Kustomization) string {
	switch {
	case len(k.Patches) > 0:
		return "patches"
	case len(k.PatchesStrategicMerge) > 0:
		return "patchesStrategicMerge"
	case len(k.PatchesJson6902) > 0:
		return "patchesJson6902"
	case len(k.Replacements) > 0:
		return "replacements"
	case len(k.Vars) > 0:
		return "vars"
	case len(k.Configurations) > 0:
		return "configurations"
	case len(k.Crds) > 0:
		return "crds"
	case len(k.Components) > 0:
		return "components"
	case len(k.Generators) > 0:
		return "generators"
	case len(k.Transformers) > 0:
		return "transformers"
	case len(k.Validators) > 0:
		return "validators"
	case len(k.ConfigMapGenerator) > 0 || len(k.SecretGenerator) > 0:
		return "configMapGenerator/secretGenerator"
	}
	for _, l := range k.Labels {
		if len(l.FieldSpecs) > 0 {
			return "labels[].fields"
		}
	}
	return ""
}
