package dev.verity.cli;

import dev.verity.core.VerificationException;
import dev.verity.core.crypto.KeyFile;
import dev.verity.core.crypto.Signer;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.node.InferenceService;
import dev.verity.node.NodeConfig;
import dev.verity.node.VerityNode;
import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.ReceiptVerifier;
import dev.verity.protocol.VerificationMode;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.sdk.InferenceResult;
import dev.verity.sdk.ModelRef;
import dev.verity.sdk.Publication;
import dev.verity.sdk.VerityClient;
import java.io.IOException;
import java.io.PrintStream;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * verity up: an embedded single-node network on 127.0.0.1 with the built-in models published, one
 * verified inference per supported mode, a demonstration that tampering is caught, and then serving
 * until Ctrl-C. Needs no configuration; running it again reuses what it published before.
 */
@Command(name = "up", description = "Start a local network, publish the example models, run and verify inferences.")
final class UpCommand implements Callable<Integer> {
  static final String VERSION_LABEL = "1.1.0";

  @Option(names = "--port", description = "port of the node (default: ${DEFAULT-VALUE})", defaultValue = "" + NodeConfig.DEFAULT_PORT)
  int port;

  @Option(names = "--data-dir", description = "where the demo keeps its node, keys and models (default: ~/.verity/up)")
  Path dataDir;

  @Option(names = "--exit", description = "stop after the summary instead of serving until Ctrl-C")
  boolean exit;

  @Override
  public Integer call() throws Exception {
    PrintStream out = System.out;
    Path dir = dataDir != null ? dataDir : new CliContext().home().resolve("up");
    Files.createDirectories(dir);
    NodeConfig config = NodeConfig.defaults().withDataDir(dir.resolve("node")).withPort(port);
    VerityNode node;
    try {
      node = VerityNode.start(config);
    } catch (BindException e) {
      throw new IllegalStateException("port " + port + " on 127.0.0.1 is in use (another 'verity up'?); pass --port N");
    }
    try (node) {
      out.println("Verity " + VerityNode.VERSION + ": node serving at " + node.uri() + " (data in " + dir + ")");
      out.println("  node key " + node.publicKey());
      Signer owner = key(dir.resolve("owner.key"));
      Signer caller = key(dir.resolve("client.key"));
      out.println("  model owner " + owner.address() + ", client " + caller.address());
      List<String> summary = new ArrayList<>();
      try (VerityClient publisher = VerityClient.builder(node.uri()).signer(owner).build();
          VerityClient client = VerityClient.builder(node.uri()).signer(caller).build()) {
        List<ModelManifest> published = new ArrayList<>();
        for (ExampleModel model : BuiltinModels.all()) {
          ModelManifest manifest = publish(publisher, owner, model, dir, out);
          published.add(manifest);
          summary.addAll(runModes(client, model, manifest, out));
        }
        summary.add(tamperChecks(client, BuiltinModels.all().get(0), published.get(0), out));
      }
      out.println();
      out.println("Summary");
      summary.forEach(s -> out.println("  " + s));
      out.println();
      out.println("Try it: ./verity models list --node " + node.uri());
      if (!exit) {
        out.println("Serving until Ctrl-C.");
        NodeCommand.awaitShutdown();
      }
    }
    return 0;
  }

  private static Signer key(Path file) throws IOException {
    if (!Files.exists(file)) {
      KeyFile.write(file, Signer.generate());
    }
    return KeyFile.read(file);
  }

  private static ModelManifest publish(VerityClient client, Signer owner, ExampleModel model, Path dir, PrintStream out)
      throws IOException, VerificationException {
    ModelRef ref = ModelRef.of(owner.address(), model.name(), VERSION_LABEL);
    try {
      ModelManifest existing = client.model(ref).manifest();
      if (existing.model().equals(model.cid())) {
        out.println("  " + model.name() + ": already published as " + existing.cid());
        return existing;
      }
      throw new IllegalStateException(ref + " exists with another model; remove " + dir + " to start afresh");
    } catch (dev.verity.sdk.VerityApiException e) {
      if (e.status() != 404) {
        throw e;
      }
    }
    Path file = dir.resolve("examples").resolve(model.name() + ".onnx");
    Files.createDirectories(file.getParent());
    Files.write(file, model.onnx());
    Publication p = Publication.of(model.name(), VERSION_LABEL)
        .withDetails(model.task(), model.dataLicence(), model.description(), List.of("example"))
        .withModes(EnumSet.of(VerificationMode.RECEIPT, VerificationMode.OPTIMISTIC, VerificationMode.ZK));
    ModelManifest m = client.publish(file, p, dev.verity.sdk.ProgressListener.NONE);
    out.printf("  published %s@%s  model %s (%d bytes, held-out accuracy %.3f)%n", model.name(), VERSION_LABEL,
        m.model(), m.modelSize(), model.heldOutAccuracy());
    return m;
  }

  private static List<String> runModes(VerityClient client, ExampleModel model, ModelManifest manifest, PrintStream out)
      throws IOException, VerificationException {
    List<String> lines = new ArrayList<>();
    ModelRef ref = ModelRef.ofManifest(manifest.cid());
    for (VerificationMode mode : VerificationMode.values()) {
      if (!InferenceService.SUPPORTED_MODES.contains(mode)) {
        lines.add(String.format("%-13s %-10s not available on this node yet", model.name(), mode.wireName()));
        continue;
      }
      int correct = 0;
      String lastReceipt = "";
      long slowest = 0;
      for (ExampleModel.Sample s : model.samples()) {
        NamedTensors inputs = NamedTensors.of(model.inputName(), Tensor.ofFloats(s.shape(), s.values()));
        long t0 = System.nanoTime();
        InferenceResult r = client.infer(ref, inputs, mode, UUID.randomUUID().toString());
        slowest = Math.max(slowest, (System.nanoTime() - t0) / 1_000_000);
        float[] probs = r.outputs().get(model.outputName()).toFloats();
        int predicted = argmax(probs);
        correct += predicted == s.label() ? 1 : 0;
        lastReceipt = r.receipt().cid().toString();
        out.printf("  %-13s %-8s true %-10s predicted %-10s (p=%.3f)  receipt verified %s%n", model.name(), mode.wireName(),
            model.classLabels().get(s.label()), model.classLabels().get(predicted), probs[predicted], shortCid(lastReceipt));
      }
      lines.add(String.format("%-13s %-10s %d/%d samples correct, every receipt verified (last %s)", model.name(),
          mode.wireName(), correct, model.samples().size(), shortCid(lastReceipt)));
      if (mode == VerificationMode.ZK) {
        lines.add(String.format("%-13s %-10s proofs of the quantized logits, inputs hidden behind commitments; slowest"
            + " request (prove + verify) %.1f s", "", "", slowest / 1000.0));
        if (slowest > SLOW_PROOF_MILLIS) {
          out.printf("  note: a zk request on %s took %.1f s (proving, then the client's verification)%n", model.name(),
              slowest / 1000.0);
        }
      }
    }
    return lines;
  }

  /** A zk request slower than this is pointed out. */
  private static final long SLOW_PROOF_MILLIS = 3000;

  /** Shows that the client rejects a changed output and a changed signature. */
  private static String tamperChecks(VerityClient client, ExampleModel model, ModelManifest manifest, PrintStream out)
      throws IOException, VerificationException {
    ExampleModel.Sample s = model.samples().get(0);
    NamedTensors inputs = NamedTensors.of(model.inputName(), Tensor.ofFloats(s.shape(), s.values()));
    InferenceResult honest = client.infer(ModelRef.ofManifest(manifest.cid()), inputs);
    ReceiptVerifier verifier = ReceiptVerifier.create().trustingOnly(java.util.Set.of(honest.receipt().node()));
    int rejected = 0;
    float[] probs = honest.outputs().get(model.outputName()).toFloats();
    probs[0] = 1 - probs[0];
    NamedTensors forged = NamedTensors.of(model.outputName(),
        Tensor.ofFloats(honest.outputs().get(model.outputName()).shape(), probs));
    rejected += rejects(() -> verifier.verify(honest.receipt(), manifest, inputs, forged), "changed output", out);
    byte[] receipt = honest.receipt().encode();
    receipt[receipt.length - 1] ^= 1;
    InferenceReceipt badSig = InferenceReceipt.decode(receipt);
    rejected += rejects(() -> verifier.verify(badSig, manifest, inputs, honest.outputs()), "changed signature byte", out);
    NamedTensors otherInputs = NamedTensors.of(model.inputName(), Tensor.ofFloats(s.shape(), new float[s.values().length]));
    rejected += rejects(() -> verifier.verify(honest.receipt(), manifest, otherInputs, honest.outputs()), "other inputs", out);
    return String.format("tamper checks  %d/3 forgeries rejected (changed output, signature byte, inputs)", rejected);
  }

  private interface Check {
    void run() throws VerificationException;
  }

  private static int rejects(Check check, String what, PrintStream out) {
    try {
      check.run();
      out.println("  tamper check: " + what + " was NOT rejected");
      return 0;
    } catch (VerificationException e) {
      out.println("  tamper check: " + what + " rejected: " + e.getMessage());
      return 1;
    }
  }

  private static int argmax(float[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best;
  }

  private static String shortCid(String cid) {
    return cid.length() > 16 ? cid.substring(0, 8) + "…" + cid.substring(cid.length() - 6) : cid;
  }

}
