package dev.verity.cli;

import dev.verity.core.Hash;
import dev.verity.protocol.VerificationMode;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.TensorJson;
import dev.verity.sdk.InferenceResult;
import dev.verity.sdk.LedgerClient;
import dev.verity.sdk.VerityApiException;
import dev.verity.sdk.ModelRef;
import dev.verity.sdk.PrivateInference;
import dev.verity.sdk.VerityClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** verity infer MODEL --input FILE: run a model and verify the receipt before showing anything. */
@Command(name = "infer", description = "Run a model; the receipt is verified before the output is shown.")
final class InferCommand implements Callable<Integer> {
  @Mixin CliContext ctx;

  @Parameters(index = "0", description = "OWNER/REPO[@VERSION] or a manifest CID")
  String model;

  @Option(names = {"-i", "--input"}, required = true, description = "inputs: .json, .npz, or .npy for a one-input model")
  Path input;

  @Option(names = "--mode", defaultValue = "receipt", description = "verification mode (default: ${DEFAULT-VALUE})")
  String mode;

  @Option(names = {"-o", "--output"}, description = "write the outputs to this .json or .npz file")
  Path output;

  @Option(names = "--job", description = "pay with this ledger job (see 'verity ledger open-job'); by default a job is"
      + " opened, escrowing the node's price, when the node charges for the model")
  String job;

  @Option(names = "--any-worker", description = "for a gateway: open the job for any worker, and accept a receipt signed"
      + " by a worker the ledger lists as live (heartbeat within --liveness-ms) and serving the model")
  boolean anyWorker;

  @Option(names = "--liveness-ms", defaultValue = "10000", description = "with --any-worker: how old a worker's last"
      + " heartbeat may be, in ledger time (default: ${DEFAULT-VALUE}, the default liveness_millis)")
  long livenessMillis;

  @Option(names = "--save", description = "save receipt.cbor, manifest.cbor, inputs.json (zk: opening.cbor) and outputs.json here, for 'verity verify'")
  Path save;

  @Override
  public Integer call() throws Exception {
    ModelRef ref = ModelRef.parse(model);
    VerityClient.Builder builder = ctx.clientBuilder();
    if (anyWorker) {
      builder.acceptRegisteredWorkers(java.time.Duration.ofMillis(livenessMillis));
    }
    try (VerityClient client = builder.build()) {
      var version = client.model(ref);
      if (version.yanked()) {
        throw new IllegalStateException(ref + " was yanked by its owner: " + version.yankReason().orElse(""));
      }
      NamedTensors inputs = TensorFiles.read(input, Optional.of(version.manifest()));
      VerificationMode m = VerificationMode.fromWireName(mode);
      Optional<Hash> paidWith = job != null ? Optional.of(Hash.fromHex(job))
          : openJobIfCharged(client, version.manifest(), anyWorker);
      // zk: the receipt names a commitment to the inputs; the opening (inputs + blinding) stays with the caller
      String requestId = UUID.randomUUID().toString();
      PrivateInference zk = m == VerificationMode.ZK ? client.inferPrivately(ref, inputs, requestId, paidWith) : null;
      InferenceResult r = zk != null ? zk.result() : client.infer(ref, inputs, m, requestId, paidWith);
      if (output != null) {
        TensorFiles.write(output, r.outputs());
        System.err.println("outputs written to " + output);
      } else {
        System.out.println(new String(TensorJson.toBytes(r.outputs()), java.nio.charset.StandardCharsets.UTF_8));
      }
      if (save != null) {
        Files.createDirectories(save);
        Files.write(save.resolve("receipt.cbor"), r.receipt().encode());
        Files.write(save.resolve("manifest.cbor"), r.manifest().encode());
        if (zk != null) {
          Files.write(save.resolve("opening.cbor"), zk.opening().encode());
        } else {
          TensorFiles.write(save.resolve("inputs.json"), inputs);
        }
        TensorFiles.write(save.resolve("outputs.json"), r.outputs());
        System.err.println("receipt, manifest, " + (zk != null ? "input opening (secret: it reveals the inputs)" : "inputs")
            + " and outputs saved in " + save);
      }
      System.err.println("receipt verified: " + r.receipt().cid());
      System.err.println("  model " + r.manifest().repositoryId() + "@" + r.manifest().version()
          + ", mode " + r.receipt().mode().wireName() + ", signed by node " + r.receipt().node());
      r.receipt().job().ifPresent(j -> System.err.println("  paid with job " + j.toHex()
          + " (check it later: verity verify RECEIPT --ledger)"));
    }
    return 0;
  }

  /**
   * Opens a job escrowing the node's price when the node runs a ledger and charges for the model:
   * for the node itself, or with {@code anyWorker} for any worker serving the model (through a
   * gateway; the price is the gateway's quote, so workers charging more refuse it).
   */
  private static Optional<Hash> openJobIfCharged(VerityClient client, dev.verity.protocol.ModelManifest m,
      boolean anyWorker) throws Exception {
    Optional<LedgerClient.Quote> q;
    try {
      q = client.ledger().quote(m.cid());
    } catch (VerityApiException e) {
      if (e.status() == 404) {
        return Optional.empty(); // the node runs no ledger: inference is free
      }
      throw e;
    }
    if (q.isEmpty() || q.get().price() == 0) {
      return Optional.empty();
    }
    Hash j = client.ledger().openJob(m.cid(), anyWorker ? Optional.empty() : Optional.of(q.get().worker()),
        q.get().price());
    System.err.println("opened job " + j.toHex() + " escrowing " + q.get().price() + " (" + q.get().royalty()
        + " royalty + " + q.get().operatorFee() + " operator fee)");
    return Optional.of(j);
  }
}
