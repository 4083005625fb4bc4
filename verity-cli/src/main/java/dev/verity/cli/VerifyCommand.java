package dev.verity.cli;

import dev.verity.core.crypto.PublicKey;
import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.OptimisticEvidence;
import dev.verity.protocol.ReceiptVerifier;
import dev.verity.protocol.VerificationMode;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.sdk.LedgerClient;
import dev.verity.sdk.ModelRef;
import dev.verity.sdk.OptimisticRecomputation;
import dev.verity.sdk.ProgressListener;
import dev.verity.sdk.VerityClient;
import dev.verity.zk.InputOpening;
import dev.verity.zk.ZkEvidenceVerifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * verity verify RECEIPT: checks a saved receipt offline; with {@code --ledger}, also that it is
 * committed on the node's ledger and that the job it names was paid, and for an optimistic receipt
 * whether its result is final, pending (until which block) or invalid (naming the dispute that
 * proved it wrong). Exit code 0 when every check passes (an optimistic result may still be
 * pending: the output says so), 3 when one fails or the result was proven invalid.
 */
@Command(name = "verify", description = "Check a receipt offline: signatures, model, inputs, outputs, evidence; "
    + "with --ledger also its inclusion and payment on the ledger.")
final class VerifyCommand implements Callable<Integer> {
  @Mixin CliContext ctx;

  @Parameters(index = "0", description = "receipt file (canonical CBOR, as saved by 'verity infer --save')")
  Path receiptFile;

  @Option(names = "--manifest", description = "manifest file (default: manifest.cbor beside the receipt, else fetched from --node)")
  Path manifestFile;

  @Option(names = "--inputs", description = "the inputs (.json/.npz) to check against the receipt")
  Path inputsFile;

  @Option(names = "--outputs", description = "the outputs (.json/.npz) to check against the receipt")
  Path outputsFile;

  @Option(names = "--node-key", description = "accept only receipts signed by this node key (ed25519:...)")
  String nodeKey;

  @Option(names = "--ledger", description = "also check on the ledger of --node that the receipt is committed and its job"
      + " was paid, from proofs and the sequencer's signatures")
  boolean ledger;

  @Mixin LedgerCommand.Sequencer sequencer;

  @Option(names = "--model", description = "the model's ONNX file, to check a zk proof offline (default: downloaded from --node and checked against the model CID)")
  Path modelFile;

  @Option(names = "--recompute", description = "optimistic receipts: recompute the result locally with the canonical"
      + " executor (model and inputs fetched from --node, each checked against its CID) and require the same trace and outputs")
  boolean recompute;

  @Option(names = "--opening", description = "zk receipts: the input opening (opening.cbor from 'verity infer --mode zk --save') to check which inputs the receipt is about")
  Path openingFile;

  @Override
  public Integer call() throws Exception {
    InferenceReceipt receipt = InferenceReceipt.decode(Files.readAllBytes(receiptFile));
    ModelManifest manifest = loadManifest(receipt);
    ZkEvidenceVerifier zk = ZkEvidenceVerifier.create(this::modelBytes);
    ReceiptVerifier verifier = ReceiptVerifier.create().withEvidenceVerifier(zk)
        .withEvidenceVerifier(recompute ? OptimisticRecomputation.create(this::modelBytes, this::blob) : OptimisticEvidence.STRUCTURE);
    boolean optimistic = receipt.mode() == VerificationMode.OPTIMISTIC;
    if (recompute && !optimistic) {
      throw new IllegalArgumentException("--recompute applies to optimistic receipts; this one is in mode " + receipt.mode().wireName());
    }
    boolean zkMode = receipt.mode() == VerificationMode.ZK;
    if (zkMode && inputsFile != null) {
      throw new IllegalArgumentException("a zk receipt names a hiding commitment to its inputs, not the inputs;"
          + " check them with --opening FILE instead of --inputs");
    }
    if (nodeKey != null) {
      verifier = verifier.trustingOnly(Set.of(PublicKey.parse(nodeKey)));
    }
    verifier.verifySignatureAndModel(receipt, manifest);
    System.out.println("ok  receipt " + receipt.cid() + " is signed by node " + receipt.node()
        + (nodeKey != null ? " (the key you trust)" : " (pass --node-key to require a specific node)"));
    System.out.println("ok  manifest " + manifest.cid() + " (" + manifest.repositoryId() + "@" + manifest.version()
        + ") is signed by its " + (manifest.publisher().equals(manifest.owner()) ? "owner" : "owner's delegate")
        + "; the receipt is for its model " + receipt.model());
    Optional<NamedTensors> inputs = Optional.empty();
    if (inputsFile != null) {
      inputs = Optional.of(TensorFiles.read(inputsFile, Optional.of(manifest)));
    }
    if (outputsFile != null) {
      NamedTensors outputs = TensorFiles.read(outputsFile, Optional.empty());
      verifier.verify(receipt, manifest, inputs, outputs);
      inputs.ifPresent(i -> System.out.println("ok  inputs match the receipt (" + receipt.inputs() + ")"));
      System.out.println("ok  outputs match the receipt (" + receipt.outputs() + ")");
      System.out.println("ok  evidence for mode '" + receipt.mode().wireName() + "' verifies"
          + (zkMode ? ": the proof establishes these outputs for model " + receipt.model() + " on the committed inputs" : ""));
    } else {
      if (inputs.isPresent() && !inputs.get().cid().equals(receipt.inputs())) {
        throw new dev.verity.core.VerificationException("the inputs do not match the receipt");
      }
      inputs.ifPresent(i -> System.out.println("ok  inputs match the receipt (" + receipt.inputs() + ")"));
      System.out.println("--  outputs not checked: pass --outputs FILE to check them too");
    }
    if (openingFile != null) {
      if (!zkMode) {
        throw new IllegalArgumentException("--opening applies to zk receipts; this one is in mode " + receipt.mode().wireName());
      }
      zk.verifyOpening(receipt, InputOpening.decode(Files.readAllBytes(openingFile)));
      System.out.println("ok  the input commitment opens to the inputs in " + openingFile);
    } else if (zkMode) {
      System.out.println("--  inputs stay hidden (the receipt names commitment " + receipt.inputs() + "); pass --opening FILE to check them");
    }
    if (recompute && outputsFile == null) {
      throw new IllegalArgumentException("--recompute compares the recomputed outputs with the receipt's: pass --outputs FILE");
    }
    if (recompute) {
      System.out.println("ok  recomputed with the canonical executor: same trace root and outputs");
    }
    if (ledger && optimistic) {
      LedgerClient.OptimisticStatus status;
      try (VerityClient client = sequencer.client(ctx)) {
        status = client.ledger().optimisticStatus(receipt, passed -> System.out.println("ok  " + passed));
      }
      System.out.println("ok  ledger checks used " + sequencer.trust());
      if (status.outcome() == LedgerClient.Outcome.INVALID) {
        System.out.println("INVALID: the result of job " + status.job().id() + " was proven wrong on the ledger"
            + status.decidedBy().map(d -> " by dispute " + d.id() + " (challenger " + d.challenger() + ", worker "
                + d.worker() + " slashed " + d.slashed() + "): " + d.verdict())
                .orElse(": it was a planted job, revealed by its client"));
        return 3;
      }
      System.out.println(status.outcome() == LedgerClient.Outcome.FINAL ? "VERIFIED (final)"
          : "VERIFIED (pending: open to challenges until block " + status.windowEnd() + ", now "
              + status.header().height() + ")");
      return 0;
    }
    if (ledger) {
      try (VerityClient client = sequencer.client(ctx)) {
        client.ledger().verifyOnLedger(receipt, passed -> System.out.println("ok  " + passed));
      }
      System.out.println("ok  ledger checks used " + sequencer.trust());
    } else {
      System.out.println("--  ledger not checked: pass --ledger to check that the receipt is committed and paid");
    }
    System.out.println("VERIFIED");
    return 0;
  }

  /** The model file for the zk verifier: --model, or downloaded (the verifier checks it against the CID). */
  private byte[] modelBytes(dev.verity.core.Cid cid) throws java.io.IOException {
    if (modelFile != null) {
      return Files.readAllBytes(modelFile);
    }
    InferenceReceipt receipt = InferenceReceipt.decode(Files.readAllBytes(receiptFile));
    Path tmp = Files.createTempFile("verity-model", ".onnx");
    try (VerityClient client = ctx.client()) {
      client.download(ModelRef.ofManifest(receipt.manifest()), tmp, ProgressListener.NONE);
      return Files.readAllBytes(tmp);
    } catch (dev.verity.core.VerificationException e) {
      throw new java.io.IOException("the node's copy of model " + cid + " does not check out: " + e.getMessage(), e);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Content by CID from --node (the recomputing verifier checks it against the CID). */
  private byte[] blob(dev.verity.core.Cid cid) throws java.io.IOException {
    try (VerityClient client = ctx.client()) {
      return client.blob(cid);
    }
  }

  private ModelManifest loadManifest(InferenceReceipt receipt) throws Exception {
    Path file = manifestFile;
    if (file == null) {
      Path beside = receiptFile.toAbsolutePath().resolveSibling("manifest.cbor");
      file = Files.exists(beside) ? beside : null;
    }
    if (file != null) {
      byte[] bytes = Files.readAllBytes(file);
      receipt.manifest().verify(bytes);
      return ModelManifest.decode(bytes);
    }
    try (VerityClient client = ctx.client()) {
      return client.manifest(receipt.manifest());
    }
  }
}
