using System.CommandLine;
using ActorFace.Host.Configuration;
using ActorFace.Model.Backbones;
using ActorFace.Model.Export.Onnx;

namespace ActorFace.Host.Commands;

/// <summary>
/// `actorface export --onnx OUT.onnx`: writes a trained backbone as an ONNX model (the counterpart of arcface_torch's
/// torch2onnx.py), either from `--network NAME --weights backbone.pth` or from a job's `--config` and run directory.
/// The model expects RGB 112×112 faces normalised as (x − 127.5)/127.5, NCHW float32, and returns the raw embedding.
/// </summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var onnx = new Option<string>("--onnx") { Description = "output ONNX file", Required = true };
        var network = new Option<string?>("--network") { Description = "backbone name (r18 … r200, mbf, mbf_large, vit_t … vit_h)" };
        var weights = new Option<string?>("--weights") { Description = "backbone state dict (.pth), e.g. a run's backbone.pth" };
        var config = new Option<string?>("--config") { Description = "training config of the job: network and embedding_size come from it" };
        var output = new Option<string?>("--output") { Description = "the job's run directory holding backbone.pth (default: the config's output)" };
        var embedding = new Option<int?>("--embedding-size") { Description = "embedding size with --network (default 512)" };
        var batch = new Option<int?>("--batch") { Description = "fixed batch size (default: dynamic batch dimension 'batch')" };
        var opset = new Option<int>("--opset") { Description = "ONNX opset 13..17 (LayerNormalization is decomposed below 17)", DefaultValueFactory = _ => 17 };
        var command = new Command("export", "export a backbone to ONNX (input RGB [N,3,112,112], (x - 127.5) / 127.5; output [N, embedding_size])");
        foreach (var o in new Option[] { onnx, network, weights, config, output, embedding, batch, opset }) command.Options.Add(o);
        command.SetAction(p => CommandErrors.Run(p, "export", o =>
        {
            var (net, features, pth) = Resolve(p.GetValue(network), p.GetValue(weights), p.GetValue(config), p.GetValue(output), p.GetValue(embedding));
            if (p.GetValue(batch) is < 1) throw new ArgumentException($"--batch must be positive (got {p.GetValue(batch)})");
            var options = new OnnxExportOptions(p.GetValue(opset), p.GetValue(batch));
            if (options.Opset is < OnnxExportOptions.MinOpset or > OnnxExportOptions.MaxOpset)
                throw new ArgumentException($"--opset {options.Opset}: use {OnnxExportOptions.MinOpset}..{OnnxExportOptions.MaxOpset}");
            if (!File.Exists(pth)) throw new ArgumentException($"weights {pth}: file not found");
            var path = p.GetValue(onnx)!;
            using var backbone = BackboneFactory.Create(net, features);
            StateDictFile.Load(backbone, pth);
            backbone.eval();
            var external = OnnxExporter.Export(backbone, net, path, options);
            o.WriteLine($"{net} ({Path.GetFileName(pth)}) exported to {path}: opset {options.Opset}, input '{OnnxExporter.InputName}' " +
                        $"[{(options.Batch?.ToString() ?? "batch")},3,112,112] RGB (x - 127.5) / 127.5, output '{OnnxExporter.OutputName}' " +
                        $"[{(options.Batch?.ToString() ?? "batch")},{features}], {new FileInfo(path).Length / 1e6:F1} MB" +
                        (external is null ? "" : $", weights in {external} ({new FileInfo(external).Length / 1e6:F1} MB; keep both files together)"));
            return 0;
        }));
        return command;
    }

    static (string Network, int Features, string Weights) Resolve(string? network, string? weights, string? config, string? output, int? embedding)
    {
        if (config is null)
        {
            if (output is not null) throw new ArgumentException("--output needs --config (or give --weights)");
            if (network is null || weights is null)
                throw new ArgumentException("choose the model: --network NAME --weights FILE.pth, or --config JOB.conf [--output RUNDIR]");
            if (embedding is < 1) throw new ArgumentException($"--embedding-size must be positive (got {embedding})");
            return (network, embedding ?? 512, weights);
        }
        if (network is not null || embedding is not null)
            throw new ArgumentException("--network/--embedding-size come from --config; give one or the other");
        try
        {
            var settings = TrainingConfigLoader.Load(config).Settings;
            return (settings.Network, settings.EmbeddingSize, weights ?? Path.Combine(output ?? settings.OutputDirectory, "backbone.pth"));
        }
        catch (ConfigException e)
        {
            throw new ArgumentException(e.Message, e);
        }
    }
}
