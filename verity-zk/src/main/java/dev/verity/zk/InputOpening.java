package dev.verity.zk;

import dev.verity.core.DecodingException;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import dev.verity.protocol.tensor.NamedTensors;
import java.util.Objects;
import java.util.Set;

/**
 * What opens the input commitment of a zk receipt: the plain inputs and the blinding they were
 * committed with. The holder keeps it (it is as secret as the inputs) and can show it later to
 * prove which inputs a receipt was about; {@link ZkEvidenceVerifier#verifyOpening} checks it.
 *
 * <p>Canonical encoding: CBOR map {@code {"v": 1, "inputs": <named tensors, PROTOCOL.md 5.3>,
 * "blinding": bytes(32)}}; decoding is strict.
 */
public record InputOpening(NamedTensors inputs, Blinding blinding) {
  public static final int VERSION = 1;

  public InputOpening {
    Objects.requireNonNull(inputs);
    Objects.requireNonNull(blinding);
  }

  /** Canonical bytes; they reveal the inputs. */
  public byte[] encode() {
    return Cbor.encode(CborValue.Map.builder()
        .put("v", VERSION)
        .put("inputs", inputs.toCbor())
        .put("blinding", blinding.toBytes())
        .build());
  }

  /** Strict decoding of {@link #encode()}. */
  public static InputOpening decode(byte[] bytes) {
    CborValue.Map m = Cbor.decodeMap(bytes);
    m.requireOnly(Set.of("v", "inputs", "blinding"));
    if (m.getLong("v") != VERSION) {
      throw new DecodingException("unsupported input opening version " + m.getLong("v"));
    }
    byte[] b = m.getBytes("blinding");
    if (b.length != Blinding.LENGTH) {
      throw new DecodingException("a blinding has " + Blinding.LENGTH + " bytes, got " + b.length);
    }
    return new InputOpening(NamedTensors.fromCbor(m.getMap("inputs")), Blinding.of(b));
  }

  @Override
  public String toString() {
    return "InputOpening[" + inputs.names() + ", blinding redacted]";
  }
}
