package dev.verity.zk;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The evidence of a receipt in mode {@code zk}: a proof of inference and the statement fields it
 * proves, as the canonical CBOR map (format version {@value #VERSION})
 *
 * <pre>
 * {"v": 1,
 *  "key": bytes(32),      -- VerifyingKey.digest() of the model compiled from its ONNX file
 *  "input": bytes(32),    -- the hiding InputCommitment
 *  "output": [int, ...],  -- the proven integer outputs (logits x 2^e), channel-major
 *  "proof": bytes}        -- Proof.encode(): "VZKP", version byte, messages</pre>
 *
 * In zk mode the receipt's {@code inputs} field is {@link #inputsCid(InputCommitment)}, the CID of
 * the commitment, never the CID of the plain inputs. Immutable; decoding is strict.
 */
public final class ZkEvidence {
  public static final int VERSION = 1;
  /** Names the input commitment scheme inside the object whose CID the receipt names as inputs. */
  public static final String INPUT_SCHEME = "verity/zk/input/v1";
  private static final int MAX_OUTPUTS = Shape.MAX_PADDED_SIZE;
  private static final Set<String> FIELDS = Set.of("v", "key", "input", "output", "proof");

  private final Hash key;
  private final InputCommitment input;
  private final long[] output;
  private final Proof proof;

  private ZkEvidence(Hash key, InputCommitment input, long[] output, Proof proof) {
    this.key = Objects.requireNonNull(key);
    this.input = Objects.requireNonNull(input);
    this.output = output.clone();
    this.proof = Objects.requireNonNull(proof);
  }

  /** The evidence of a proved inference. */
  public static ZkEvidence of(ProvedInference p) {
    Statement s = p.statement();
    return new ZkEvidence(s.key().digest(), s.input(), s.output(), p.proof());
  }

  /** Digest of the verifying key the proof is for. */
  public Hash keyDigest() {
    return key;
  }

  public InputCommitment input() {
    return input;
  }

  public long[] output() {
    return output.clone();
  }

  public Proof proof() {
    return proof;
  }

  /** The statement this evidence claims, under the verifying key the verifier derived itself. */
  public Statement statement(VerifyingKey derived) {
    return new Statement(derived, input, output);
  }

  public CborValue.Map toCbor() {
    List<CborValue> out = new ArrayList<>(output.length);
    for (long v : output) {
      out.add(new CborValue.Int(v));
    }
    return CborValue.Map.builder()
        .put("v", VERSION)
        .put("key", key.toBytes())
        .put("input", input.toBytes())
        .put("output", new CborValue.Array(out))
        .put("proof", proof.encode())
        .build();
  }

  /** Strict decoding: exactly the fields above, of the right types and sizes. */
  public static ZkEvidence fromCbor(CborValue.Map m) {
    m.requireOnly(FIELDS);
    for (String f : FIELDS) {
      m.get(f);
    }
    if (m.getLong("v") != VERSION) {
      throw new DecodingException("unsupported zk evidence version " + m.getLong("v") + "; this verifier reads " + VERSION);
    }
    byte[] key = m.getBytes("key");
    if (key.length != 32) {
      throw new DecodingException("zk evidence 'key' must be 32 bytes");
    }
    List<CborValue> out = m.getArray("output");
    if (out.isEmpty() || out.size() > MAX_OUTPUTS) {
      throw new DecodingException("zk evidence 'output' must hold 1 to " + MAX_OUTPUTS + " integers");
    }
    long[] y = new long[out.size()];
    for (int i = 0; i < y.length; i++) {
      if (!(out.get(i) instanceof CborValue.Int v)) {
        throw new DecodingException("zk evidence 'output' must hold integers");
      }
      y[i] = v.value();
    }
    return new ZkEvidence(Hash.wrap(key), InputCommitment.fromBytes(m.getBytes("input")), y,
        Proof.decode(m.getBytes("proof")));
  }

  /**
   * What a zk receipt names as its inputs: the dag-cbor CID of {@code {"scheme":
   * "verity/zk/input/v1", "commitment": bytes(32)}}. It identifies the hiding commitment, so
   * nobody can test guesses of the input against it (unlike the CID of the plain inputs).
   */
  public static Cid inputsCid(InputCommitment commitment) {
    return Cid.dagCbor(Cbor.encode(CborValue.Map.builder()
        .put("scheme", INPUT_SCHEME)
        .put("commitment", commitment.toBytes())
        .build()));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ZkEvidence e && key.equals(e.key) && input.equals(e.input) && Arrays.equals(output, e.output)
        && proof.equals(e.proof);
  }

  @Override
  public int hashCode() {
    return Objects.hash(key, input, Arrays.hashCode(output), proof);
  }

  @Override
  public String toString() {
    return "ZkEvidence[key " + key.toHex().substring(0, 16) + ", " + input + ", output " + Arrays.toString(output) + ", "
        + proof + "]";
  }
}
