package dev.verity.protocol;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.Signer;
import dev.verity.protocol.tensor.Dim;
import dev.verity.protocol.tensor.ElementType;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.protocol.tensor.TensorSpec;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;

/** Deterministic keys, manifests, tensors and receipts shared by the protocol tests. */
final class Fixtures {
  static final long CREATED = 1_750_000_000_000L;
  static final long STARTED = CREATED + 60_000;
  static final long FINISHED = STARTED + 125;
  static final long DAY = 86_400_000L;

  static final Signer OWNER = key("owner");
  static final Signer DELEGATE = key("delegate");
  static final Signer NODE = key("node");
  static final Signer STRANGER = key("stranger");
  static final Cid MODEL = Cid.raw("the bytes of an ONNX model".getBytes(StandardCharsets.US_ASCII));
  static final Provenance PROVENANCE =
      new Provenance("onnxruntime", "1.22.0", "CPUExecutionProvider", "0.1.0", "Linux", "amd64", "Eclipse Adoptium 21.0.5");

  static final List<TensorSpec> INPUTS =
      List.of(new TensorSpec("x", ElementType.FLOAT32, List.of(Dim.dynamic("N"), Dim.fixed(3))));
  static final List<TensorSpec> OUTPUTS = List.of(
      new TensorSpec("y", ElementType.FLOAT32, List.of(Dim.dynamic("N"), Dim.fixed(2))),
      new TensorSpec("label", ElementType.INT64, List.of(Dim.dynamic("N"))));

  private Fixtures() {}

  /** A key derived from a name, the same on every run. */
  static Signer key(String name) {
    return Signer.fromSeed(Hash.of(("verity test key " + name).getBytes(StandardCharsets.UTF_8)).toBytes());
  }

  static ModelManifest.Builder builder() {
    return ModelManifest.builder()
        .repository("iris-classifier")
        .version("1.0.0")
        .model(MODEL, 4096)
        .opsets(Map.of("", 17L, "ai.onnx.ml", 3L))
        .inputs(INPUTS)
        .outputs(OUTPUTS)
        .task("tabular-classification")
        .license("Apache-2.0")
        .description("Classifies iris flowers from four measurements.")
        .tags(List.of("iris", "sklearn"))
        .price(25)
        .modes(EnumSet.of(VerificationMode.RECEIPT, VerificationMode.OPTIMISTIC))
        .createdAtMillis(CREATED);
  }

  /** Public, published by its owner. */
  static ModelManifest manifest() {
    return builder().sign(OWNER);
  }

  static Delegation grant() {
    return Delegation.create(OWNER, DELEGATE.publicKey(), "iris-classifier", CREATED + DAY);
  }

  /** Private with an allow-list, published by a delegate under the owner's grant. */
  static ModelManifest delegatedManifest() {
    return builder()
        .owner(OWNER.publicKey())
        .visibility(ModelManifest.Visibility.PRIVATE, List.of(STRANGER.address()))
        .delegation(grant())
        .sign(DELEGATE);
  }

  static NamedTensors inputs() {
    return NamedTensors.of("x", Tensor.ofFloats(new long[] {2, 3}, new float[] {5.1f, 3.5f, 1.4f, 6.2f, 2.9f, 4.3f}));
  }

  static NamedTensors outputs() {
    return NamedTensors.of(Map.of(
        "y", Tensor.ofFloats(new long[] {2, 2}, new float[] {0.9f, 0.1f, 0.2f, 0.8f}),
        "label", Tensor.ofLongs(new long[] {2}, new long[] {0, 1})));
  }

  static CborValue.Map noEvidence() {
    return CborValue.Map.builder().build();
  }

  static InferenceReceipt receipt(ModelManifest m) {
    return InferenceReceipt.sign(NODE, "req-0001", m, inputs().cid(), outputs().cid(), VerificationMode.RECEIPT,
        noEvidence(), PROVENANCE, STARTED, FINISHED);
  }

  /** The signed map of an encoding with one field set to {@code value} (signature kept as it was). */
  static byte[] withField(byte[] signedEncoding, String key, CborValue value) {
    CborValue.Map.Builder b = CborValue.Map.builder();
    Cbor.decodeMap(signedEncoding).entries().forEach((k, v) -> {
      if (!k.equals(key)) {
        b.put(k, v);
      }
    });
    return Cbor.encode(b.put(key, value).build());
  }

  /** The fields of an encoding, signature dropped, with {@code changes} applied and signed anew. */
  static byte[] resigned(byte[] signedEncoding, String domain, Map<String, CborValue> changes, Signer signer) {
    CborValue.Map.Builder b = CborValue.Map.builder();
    Signing.body(Cbor.decodeMap(signedEncoding)).entries().forEach((k, v) -> {
      if (!changes.containsKey(k)) {
        b.put(k, v);
      }
    });
    changes.forEach(b::put);
    return Cbor.encode(Signing.sign(domain, b.build(), signer));
  }

  /** What happened to bytes offered as a manifest. */
  enum Outcome { DECODE_REJECTED, VERIFY_REJECTED, ACCEPTED }

  static Outcome offerManifest(byte[] bytes) {
    ModelManifest m;
    try {
      m = ModelManifest.decode(bytes);
    } catch (DecodingException e) {
      return Outcome.DECODE_REJECTED;
    }
    try {
      m.verify();
      return Outcome.ACCEPTED;
    } catch (VerificationException e) {
      return Outcome.VERIFY_REJECTED;
    }
  }
}
