package dev.verity.protocol;

import dev.verity.core.Cid;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.Signer;
import dev.verity.protocol.tensor.Dim;
import dev.verity.protocol.tensor.ElementType;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.protocol.tensor.TensorSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Generates the format-version-1 test vectors kept in {@code src/test/resources/vectors/v1/}: a
 * manifest (owner-published), a manifest published by a delegate, a receipt with its inputs and
 * outputs, a yank notice and one tensor set holding every element type. Everything derives from
 * fixed seeds, times and strings, and Ed25519 is deterministic, so every run writes the same bytes.
 * {@link GoldenVectorsTest} checks the saved files against the code; released vectors never change.
 *
 * <p>To write them (only when adding a format version): run this class's {@code main} with the
 * target directory, or {@code mvn -o test -pl verity-protocol -Dtest=GoldenVectorsTest
 * -Dverity.writeVectors=src/test/resources/vectors/v1}.
 */
public final class GoldenVectors {
  static final byte[] OWNER_SEED = seed(0x00);
  static final byte[] DELEGATE_SEED = seed(0x20);
  static final byte[] NODE_SEED = seed(0x40);
  static final long CREATED = 1_735_689_600_000L; // 2025-01-01T00:00:00Z
  static final long GRANT_EXPIRES = 1_767_225_600_000L; // 2026-01-01T00:00:00Z
  static final long STARTED = 1_735_689_660_000L;
  static final long FINISHED = 1_735_689_660_042L;
  static final long YANKED = 1_735_776_000_000L;
  static final byte[] MODEL_BYTES = "verity golden model v1".getBytes(StandardCharsets.US_ASCII);

  private GoldenVectors() {}

  /** 32 consecutive byte values starting at {@code first}: 00 01 .. 1f for 0x00. */
  private static byte[] seed(int first) {
    byte[] s = new byte[32];
    for (int i = 0; i < 32; i++) {
      s[i] = (byte) (first + i);
    }
    return s;
  }

  static ModelManifest.Builder manifestFields() {
    return ModelManifest.builder()
        .repository("iris")
        .version("1.0.0")
        .model(Cid.raw(MODEL_BYTES), MODEL_BYTES.length)
        .opsets(Map.of("", 17L))
        .inputs(List.of(new TensorSpec("x", ElementType.FLOAT32, List.of(Dim.dynamic("N"), Dim.fixed(3)))))
        .outputs(List.of(
            new TensorSpec("probabilities", ElementType.FLOAT32, List.of(Dim.dynamic("N"), Dim.fixed(3))),
            new TensorSpec("label", ElementType.INT64, List.of(Dim.dynamic("N")))))
        .task("tabular-classification")
        .license("MIT")
        .description("Golden test vector: not a real model.")
        .tags(List.of("iris", "test-vector"))
        .price(10)
        .modes(EnumSet.of(VerificationMode.RECEIPT))
        .createdAtMillis(CREATED);
  }

  static NamedTensors inputs() {
    return NamedTensors.of("x", Tensor.ofFloats(new long[] {2, 3}, new float[] {5.1f, 3.5f, 1.4f, 6.7f, 3.0f, 5.2f}));
  }

  static NamedTensors outputs() {
    return NamedTensors.of(Map.of(
        "probabilities", Tensor.ofFloats(new long[] {2, 3}, new float[] {0.97f, 0.02f, 0.01f, 0.01f, 0.12f, 0.87f}),
        "label", Tensor.ofLongs(new long[] {2}, new long[] {0, 2})));
  }

  /** One tensor of every element type, with edge values. */
  static NamedTensors allTypes() {
    Map<String, Tensor> m = new LinkedHashMap<>();
    m.put("f32", Tensor.ofFloats(new long[] {2, 3},
        new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0.0f, Float.MIN_VALUE, Float.MAX_VALUE}));
    m.put("f64", Tensor.ofDoubles(new long[] {3}, new double[] {0.1, -Double.MIN_VALUE, 1e300}));
    m.put("u8", Tensor.ofBytes(ElementType.UINT8, new long[] {2}, new byte[] {0, (byte) 255}));
    m.put("i8", Tensor.ofBytes(ElementType.INT8, new long[] {2}, new byte[] {-128, 127}));
    m.put("i16", Tensor.ofBytes(ElementType.INT16, new long[] {2},
        ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putShort((short) -2).putShort((short) 300).array()));
    m.put("i32", Tensor.ofInts(new long[] {1, 2}, new int[] {Integer.MIN_VALUE, 65536}));
    m.put("i64", Tensor.ofLongs(new long[0], new long[] {-1}));
    m.put("bool", Tensor.ofBools(new long[] {3}, new boolean[] {true, false, true}));
    m.put("text", Tensor.ofStrings(new long[] {2}, List.of("hello", "caf\u00e9 \ud83d\ude42")));
    m.put("empty", Tensor.ofFloats(new long[] {0, 4}, new float[0]));
    return NamedTensors.of(m);
  }

  static Provenance provenance() {
    return new Provenance("onnxruntime", "1.22.0", "CPUExecutionProvider", "0.1.0", "Linux", "amd64", "Eclipse Adoptium 21.0.5");
  }

  /** File name to content; text files in UTF-8. Hex files hold one line of lower-case hex. */
  static Map<String, byte[]> generate() {
    Signer owner = Signer.fromSeed(OWNER_SEED);
    Signer delegate = Signer.fromSeed(DELEGATE_SEED);
    Signer node = Signer.fromSeed(NODE_SEED);
    ModelManifest manifest = manifestFields().sign(owner);
    Delegation grant = Delegation.create(owner, delegate.publicKey(), "iris", GRANT_EXPIRES);
    ModelManifest delegated = manifestFields().owner(owner.publicKey()).version("1.0.1").delegation(grant).sign(delegate);
    InferenceReceipt receipt = InferenceReceipt.sign(node, "golden-0001", manifest, inputs().cid(), outputs().cid(),
        VerificationMode.RECEIPT, CborValue.Map.builder().build(), provenance(), STARTED, FINISHED);
    YankNotice yank = YankNotice.create(owner, manifest, "superseded by 1.0.1", YANKED);

    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("manifest.cbor.hex", hex(manifest.encode()));
    files.put("manifest-delegated.cbor.hex", hex(delegated.encode()));
    files.put("inputs.cbor.hex", hex(inputs().canonicalBytes()));
    files.put("outputs.cbor.hex", hex(outputs().canonicalBytes()));
    files.put("receipt.cbor.hex", hex(receipt.encode()));
    files.put("yank.cbor.hex", hex(yank.encode()));
    files.put("tensors-all-types.cbor.hex", hex(allTypes().canonicalBytes()));

    TreeMap<String, String> p = new TreeMap<>();
    HexFormat h = HexFormat.of();
    p.put("owner.seed", h.formatHex(OWNER_SEED));
    p.put("owner.public_key", owner.publicKey().toString());
    p.put("owner.public_key.hex", h.formatHex(owner.publicKey().toBytes()));
    p.put("owner.address", owner.address().toString());
    p.put("delegate.seed", h.formatHex(DELEGATE_SEED));
    p.put("delegate.public_key", delegate.publicKey().toString());
    p.put("node.seed", h.formatHex(NODE_SEED));
    p.put("node.public_key", node.publicKey().toString());
    p.put("node.address", node.address().toString());
    p.put("model.bytes.ascii", new String(MODEL_BYTES, StandardCharsets.US_ASCII));
    p.put("model.cid", Cid.raw(MODEL_BYTES).toString());
    p.put("manifest.cid", manifest.cid().toString());
    p.put("manifest.signature", h.formatHex(Cbor.decodeMap(manifest.encode()).getBytes("signature")));
    p.put("manifest-delegated.cid", delegated.cid().toString());
    p.put("inputs.cid", inputs().cid().toString());
    p.put("outputs.cid", outputs().cid().toString());
    p.put("receipt.cid", receipt.cid().toString());
    p.put("receipt.signature", h.formatHex(Cbor.decodeMap(receipt.encode()).getBytes("signature")));
    p.put("yank.cid", Cid.dagCbor(yank.encode()).toString());
    p.put("tensors-all-types.cid", allTypes().cid().toString());
    StringBuilder props = new StringBuilder("# Verity format v1 test vectors; see docs/PROTOCOL.md. Generated by GoldenVectors.\n");
    p.forEach((k, v) -> props.append(k).append('=').append(v).append('\n'));
    files.put("vectors.properties", props.toString().getBytes(StandardCharsets.UTF_8));
    return files;
  }

  private static byte[] hex(byte[] b) {
    return (HexFormat.of().formatHex(b) + "\n").getBytes(StandardCharsets.US_ASCII);
  }

  static void write(Path dir) throws IOException {
    Files.createDirectories(dir);
    for (var e : generate().entrySet()) {
      Files.write(dir.resolve(e.getKey()), e.getValue());
    }
  }

  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: GoldenVectors <directory>  (verity-protocol/src/test/resources/vectors/v1)");
      System.exit(2);
    }
    write(Path.of(args[0]));
  }
}
