package dev.verity.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.verity.core.Cid;
import dev.verity.core.VerificationException;
import dev.verity.core.crypto.Signer;
import dev.verity.protocol.tensor.NamedTensors;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The saved format-v1 artefacts still decode, re-encode to the same bytes, carry the recorded CIDs
 * and verify; and the generator still produces them byte for byte.
 */
class GoldenVectorsTest {
  private static byte[] file(String name) throws IOException {
    try (InputStream in = GoldenVectorsTest.class.getResourceAsStream("/vectors/v1/" + name)) {
      if (in == null) {
        throw new IllegalStateException("missing test vector vectors/v1/" + name);
      }
      return in.readAllBytes();
    }
  }

  private static byte[] cbor(String name) throws IOException {
    return HexFormat.of().parseHex(new String(file(name + ".cbor.hex"), StandardCharsets.US_ASCII).strip());
  }

  private static Properties recorded() throws IOException {
    Properties p = new Properties();
    p.load(new StringReader(new String(file("vectors.properties"), StandardCharsets.UTF_8)));
    return p;
  }

  @Test
  void savedManifestsDecodeReencodeAndVerify() throws IOException, VerificationException {
    Properties p = recorded();
    for (String name : new String[] {"manifest", "manifest-delegated"}) {
      byte[] bytes = cbor(name);
      ModelManifest m = ModelManifest.decode(bytes);
      assertArrayEquals(bytes, m.encode(), name);
      assertEquals(p.getProperty(name + ".cid"), m.cid().toString(), name);
      m.verify();
      assertEquals(p.getProperty("owner.public_key"), m.owner().toString());
      assertEquals(p.getProperty("model.cid"), m.model().toString());
    }
    assertEquals(p.getProperty("delegate.public_key"), ModelManifest.decode(cbor("manifest-delegated")).publisher().toString());
  }

  @Test
  void savedTensorsDecodeReencodeAndHaveTheirCids() throws IOException {
    Properties p = recorded();
    for (String name : new String[] {"inputs", "outputs", "tensors-all-types"}) {
      byte[] bytes = cbor(name);
      NamedTensors t = NamedTensors.fromCanonicalBytes(bytes);
      assertArrayEquals(bytes, t.canonicalBytes(), name);
      assertEquals(p.getProperty(name + ".cid"), t.cid().toString(), name);
      assertEquals(Cid.dagCbor(bytes), t.cid());
    }
  }

  @Test
  void savedReceiptDecodesReencodesAndVerifiesAgainstSavedManifestAndTensors() throws IOException, VerificationException {
    Properties p = recorded();
    byte[] bytes = cbor("receipt");
    InferenceReceipt r = InferenceReceipt.decode(bytes);
    assertArrayEquals(bytes, r.encode());
    assertEquals(p.getProperty("receipt.cid"), r.cid().toString());
    assertEquals(p.getProperty("node.public_key"), r.node().toString());
    ModelManifest m = ModelManifest.decode(cbor("manifest"));
    ReceiptVerifier.create()
        .trustingOnly(java.util.Set.of(dev.verity.core.crypto.PublicKey.parse(p.getProperty("node.public_key"))))
        .verify(r, m, NamedTensors.fromCanonicalBytes(cbor("inputs")), NamedTensors.fromCanonicalBytes(cbor("outputs")));
  }

  @Test
  void savedYankNoticeVerifiesAgainstSavedManifest() throws IOException, VerificationException {
    byte[] bytes = cbor("yank");
    YankNotice y = YankNotice.decode(bytes);
    assertArrayEquals(bytes, y.encode());
    assertEquals(recorded().getProperty("yank.cid"), Cid.dagCbor(bytes).toString());
    y.verify(ModelManifest.decode(cbor("manifest")));
  }

  @Test
  void recordedKeysDeriveFromTheRecordedSeeds() throws IOException {
    Properties p = recorded();
    for (String who : new String[] {"owner", "delegate", "node"}) {
      Signer s = Signer.fromSeed(HexFormat.of().parseHex(p.getProperty(who + ".seed")));
      assertEquals(p.getProperty(who + ".public_key"), s.publicKey().toString(), who);
    }
    assertEquals(p.getProperty("owner.address"), Signer.fromSeed(GoldenVectors.OWNER_SEED).address().toString());
  }

  @Test
  void generatorReproducesEverySavedFileByteForByte() throws IOException {
    for (var e : GoldenVectors.generate().entrySet()) {
      assertArrayEquals(file(e.getKey()), e.getValue(),
          e.getKey() + " differs from the saved vector: released format versions must keep their bytes");
    }
  }

  @Test
  void generatorIsDeterministic() {
    var a = GoldenVectors.generate();
    var b = GoldenVectors.generate();
    assertEquals(a.keySet(), b.keySet());
    a.forEach((k, v) -> assertArrayEquals(v, b.get(k), k));
  }

  /** Writes the vectors; runs only when asked (see {@link GoldenVectors}). */
  @Test
  @EnabledIfSystemProperty(named = "verity.writeVectors", matches = ".+")
  void writeVectors() throws IOException {
    GoldenVectors.write(Path.of(System.getProperty("verity.writeVectors")));
  }
}
