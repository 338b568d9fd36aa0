// A minimal stand-in for the `command` resource provider (pulumi-resource-command), used by this
// project's engine tests.
//
// The provider module of github.com/pulumi/pulumi-command is not served at v1.2.1 by the Go module
// proxy reachable here, so this implements `command:local:Command` with the behaviour that
// @pulumi/command 1.x documents and that our components rely on:
//   - create runs `create` with `interpreter` (default /bin/sh -c), `environment` (on top of the
//     provider's own environment), `dir` and `stdin`; outputs are the inputs plus `stdout` and
//     `stderr` (one trailing newline trimmed);
//   - a change of `triggers` replaces the resource (create the new one, then delete the old);
//     any other change is an update, which runs `update`, or `create` when `update` is unset;
//   - delete runs `delete` if set; update and delete see PULUMI_COMMAND_STDOUT/STDERR of the
//     previous run unless addPreviousOutputInEnv is false;
//   - secrets are accepted and kept secret in the outputs; a preview never runs a command.
//
// `command:remote:*`, the invokes and `logging` (streaming output to the engine) are not implemented.
package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// version is the @pulumi/command version this provider stands in for (set with -ldflags -X).
var version = "1.2.1"

const localCommand = "command:local:Command"

// inputKeys are the inputs of command:local:Command; triggers replace, the others update.
var inputKeys = []resource.PropertyKey{
	"addPreviousOutputInEnv", "archivePaths", "assetPaths", "create", "delete", "dir",
	"environment", "interpreter", "logging", "stdin", "triggers", "update",
}

type provider struct {
	pulumirpc.UnimplementedResourceProviderServer
}

func main() {
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterResourceProviderServer(srv, &provider{})
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "fatal: could not start provider RPC server: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "fatal: provider RPC stopped serving: %v\n", err)
		os.Exit(1)
	}
}

var opts = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, KeepResources: true, SkipNulls: true}

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	if s == nil {
		return resource.PropertyMap{}, nil
	}
	return plugin.UnmarshalProperties(s, opts)
}

func marshal(m resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(m, opts)
}

func checkType(t string) error {
	if t != localCommand {
		return status.Errorf(codes.Unimplemented, "this stand-in command provider implements only %s, not %s", localCommand, t)
	}
	return nil
}

func typeOf(urn string) string {
	// urn:pulumi:stack::project::qualified$type::name
	parts := strings.Split(urn, "::")
	if len(parts) < 4 {
		return ""
	}
	qualified := parts[2]
	if i := strings.LastIndex(qualified, "$"); i >= 0 {
		qualified = qualified[i+1:]
	}
	return qualified
}

func (p *provider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (p *provider) Handshake(ctx context.Context, req *pulumirpc.ProviderHandshakeRequest) (*pulumirpc.ProviderHandshakeResponse, error) {
	return &pulumirpc.ProviderHandshakeResponse{AcceptSecrets: true, AcceptResources: true, AcceptOutputs: false}, nil
}

func (p *provider) CheckConfig(ctx context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.News}, nil
}

func (p *provider) DiffConfig(ctx context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (p *provider) Configure(ctx context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true, AcceptResources: true}, nil
}

func (p *provider) Check(ctx context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	if err := checkType(typeOf(req.Urn)); err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: req.News}, nil
}

func (p *provider) Diff(ctx context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, err := unmarshal(req.OldInputs)
	if err != nil {
		return nil, err
	}
	if req.OldInputs == nil {
		if olds, err = unmarshal(req.Olds); err != nil {
			return nil, err
		}
	}
	news, err := unmarshal(req.News)
	if err != nil {
		return nil, err
	}
	ignored := map[string]bool{}
	for _, k := range req.IgnoreChanges {
		ignored[k] = true
	}
	var diffs, replaces []string
	detailed := map[string]*pulumirpc.PropertyDiff{}
	for _, k := range inputKeys {
		if ignored[string(k)] {
			continue
		}
		o, hasOld := olds[k]
		n, hasNew := news[k]
		if !hasOld && !hasNew {
			continue
		}
		if hasOld && hasNew && !n.ContainsUnknowns() && o.DeepEquals(n) {
			continue
		}
		diffs = append(diffs, string(k))
		kind := pulumirpc.PropertyDiff_UPDATE
		switch {
		case !hasOld:
			kind = pulumirpc.PropertyDiff_ADD
		case !hasNew:
			kind = pulumirpc.PropertyDiff_DELETE
		}
		if k == "triggers" {
			replaces = append(replaces, string(k))
			kind += 1 // ADD_REPLACE, DELETE_REPLACE, UPDATE_REPLACE follow their plain kinds
		}
		detailed[string(k)] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: true}
	}
	changes := pulumirpc.DiffResponse_DIFF_NONE
	if len(diffs) > 0 {
		changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	return &pulumirpc.DiffResponse{
		Changes: changes, Diffs: diffs, Replaces: replaces,
		DetailedDiff: detailed, HasDetailedDiff: true,
	}, nil
}

func (p *provider) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	if err := checkType(typeOf(req.Urn)); err != nil {
		return nil, err
	}
	inputs, err := unmarshal(req.Properties)
	if err != nil {
		return nil, err
	}
	id, err := resource.NewUniqueHex("", 8, 0)
	if err != nil {
		return nil, err
	}
	outputs, err := run(ctx, inputs, "create", nil, req.Preview)
	if err != nil {
		return nil, err
	}
	props, err := marshal(outputs)
	if err != nil {
		return nil, err
	}
	if req.Preview {
		id = ""
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

func (p *provider) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	if err := checkType(typeOf(req.Urn)); err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.Olds)
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.News)
	if err != nil {
		return nil, err
	}
	which := "create"
	if v, ok := news["update"]; ok && !v.IsNull() {
		which = "update"
	}
	outputs, err := run(ctx, news, which, olds, req.Preview)
	if err != nil {
		return nil, err
	}
	props, err := marshal(outputs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

func (p *provider) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	if err := checkType(typeOf(req.Urn)); err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.Properties)
	if err != nil {
		return nil, err
	}
	if v, ok := olds["delete"]; ok && !v.IsNull() {
		if _, err := run(ctx, olds, "delete", olds, false); err != nil {
			return nil, err
		}
	}
	return &emptypb.Empty{}, nil
}

func (p *provider) Read(ctx context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	return &pulumirpc.ReadResponse{Id: req.Id, Properties: req.Properties, Inputs: req.Inputs}, nil
}

func (p *provider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (p *provider) Attach(context.Context, *pulumirpc.PluginAttach) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// plain unwraps secrets; ok is false for unknowns.
func plain(v resource.PropertyValue) (resource.PropertyValue, bool) {
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	if v.IsComputed() || v.IsOutput() && !v.OutputValue().Known {
		return v, false
	}
	if v.IsOutput() {
		return plain(v.OutputValue().Element)
	}
	return v, true
}

func str(m resource.PropertyMap, k resource.PropertyKey) (string, bool) {
	v, ok := m[k]
	if !ok {
		return "", false
	}
	p, known := plain(v)
	if !known || !p.IsString() {
		return "", false
	}
	return p.StringValue(), true
}

// run runs the inputs' `which` command (unless preview) and returns the inputs plus stdout/stderr.
func run(ctx context.Context, inputs resource.PropertyMap, which string, previous resource.PropertyMap, preview bool) (resource.PropertyMap, error) {
	outputs := inputs.Copy()
	if preview || inputs.ContainsUnknowns() {
		if preview {
			outputs["stdout"] = resource.MakeComputed(resource.NewStringProperty(""))
			outputs["stderr"] = resource.MakeComputed(resource.NewStringProperty(""))
			return outputs, nil
		}
		return nil, fmt.Errorf("inputs of a command to run are not all known")
	}
	script, _ := str(inputs, resource.PropertyKey(which))
	interpreter := []string{"/bin/sh", "-c"}
	if v, ok := inputs["interpreter"]; ok {
		if p, _ := plain(v); p.IsArray() && len(p.ArrayValue()) > 0 {
			interpreter = nil
			for _, e := range p.ArrayValue() {
				s, _ := plain(e)
				if !s.IsString() {
					return nil, fmt.Errorf("interpreter must be a list of strings")
				}
				interpreter = append(interpreter, s.StringValue())
			}
		}
	}
	env := os.Environ()
	if v, ok := inputs["environment"]; ok {
		if p, _ := plain(v); p.IsObject() {
			keys := p.ObjectValue().StableKeys()
			sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
			for _, k := range keys {
				s, _ := plain(p.ObjectValue()[k])
				if s.IsString() {
					env = append(env, string(k)+"="+s.StringValue())
				}
			}
		}
	}
	addPrevious := true
	if v, ok := inputs["addPreviousOutputInEnv"]; ok {
		if p, _ := plain(v); p.IsBool() {
			addPrevious = p.BoolValue()
		}
	}
	if previous != nil && addPrevious {
		if s, ok := str(previous, "stdout"); ok {
			env = append(env, "PULUMI_COMMAND_STDOUT="+s)
		}
		if s, ok := str(previous, "stderr"); ok {
			env = append(env, "PULUMI_COMMAND_STDERR="+s)
		}
	}
	args := append(append([]string{}, interpreter[1:]...), script)
	cmd := exec.CommandContext(ctx, interpreter[0], args...)
	cmd.Env = env
	if dir, ok := str(inputs, "dir"); ok && dir != "" {
		cmd.Dir = dir
	}
	if stdin, ok := str(inputs, "stdin"); ok {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s command failed: %v\nstdout:\n%s\nstderr:\n%s", which, err, stdout.String(), stderr.String())
	}
	outputs["stdout"] = resource.NewStringProperty(strings.TrimSuffix(stdout.String(), "\n"))
	outputs["stderr"] = resource.NewStringProperty(strings.TrimSuffix(stderr.String(), "\n"))
	return outputs, nil
}
