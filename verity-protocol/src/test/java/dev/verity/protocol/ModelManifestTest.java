package dev.verity.protocol;

import static dev.verity.protocol.Fixtures.CREATED;
import static dev.verity.protocol.Fixtures.DAY;
import static dev.verity.protocol.Fixtures.DELEGATE;
import static dev.verity.protocol.Fixtures.NODE;
import static dev.verity.protocol.Fixtures.OWNER;
import static dev.verity.protocol.Fixtures.STRANGER;
import static dev.verity.protocol.Fixtures.builder;
import static dev.verity.protocol.Fixtures.offerManifest;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.VerificationException;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import dev.verity.protocol.Fixtures.Outcome;
import dev.verity.protocol.tensor.Dim;
import dev.verity.protocol.tensor.ElementType;
import dev.verity.protocol.tensor.TensorSpec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ModelManifestTest {
  private static final ModelManifest OWNED = Fixtures.manifest();
  private static final ModelManifest DELEGATED = Fixtures.delegatedManifest();

  // ---- round trip ----

  @Test
  void roundTripsThroughItsCanonicalEncoding() throws VerificationException {
    ModelManifest back = ModelManifest.decode(OWNED.encode());
    assertEquals(OWNED, back);
    assertArrayEquals(OWNED.encode(), back.encode());
    assertEquals(OWNED.cid(), back.cid());
    assertEquals(Cid.dagCbor(OWNED.encode()), OWNED.cid());
    back.verify();

    assertEquals(OWNER.publicKey(), back.owner());
    assertEquals(OWNER.publicKey(), back.publisher());
    assertEquals("iris-classifier", back.repository());
    assertEquals("1.0.0", back.version());
    assertEquals(Fixtures.MODEL, back.model());
    assertEquals(4096, back.modelSize());
    assertEquals("onnx", back.format());
    assertEquals(Map.of("", 17L, "ai.onnx.ml", 3L), back.opsets());
    assertEquals(Fixtures.INPUTS, back.inputs());
    assertEquals(Fixtures.OUTPUTS, back.outputs());
    assertEquals(List.of("iris", "sklearn"), back.tags());
    assertEquals(25, back.price());
    assertEquals(EnumSet.of(VerificationMode.RECEIPT, VerificationMode.OPTIMISTIC), back.modes());
    assertEquals(ModelManifest.Visibility.PUBLIC, back.visibility());
    assertEquals(CREATED, back.createdAtMillis());
    assertEquals(Optional.empty(), back.delegation());
    assertEquals(OWNER.address() + "/iris-classifier", back.repositoryId());
  }

  @Test
  void delegatedManifestRoundTripsAndVerifies() throws VerificationException {
    ModelManifest back = ModelManifest.decode(DELEGATED.encode());
    assertEquals(DELEGATED, back);
    back.verify();
    assertEquals(OWNER.publicKey(), back.owner());
    assertEquals(DELEGATE.publicKey(), back.publisher());
    assertEquals(DELEGATE.publicKey(), back.delegation().orElseThrow().delegate());
    assertEquals(List.of(STRANGER.address()), back.allowList());
  }

  @Test
  void signingTheSameFieldsTwiceGivesTheSameBytes() {
    assertArrayEquals(OWNED.encode(), Fixtures.manifest().encode());
    assertNotEquals(OWNED.cid(), DELEGATED.cid());
  }

  @Test
  void theSignatureCoversTheDomainTagThenTheFieldsWithoutTheSignature() throws VerificationException {
    CborValue.Map signed = Cbor.decodeMap(OWNED.encode());
    byte[] signature = signed.getBytes("signature");
    byte[] body = Cbor.encode(Signing.body(signed));
    byte[] message = new byte[ModelManifest.DOMAIN.length() + 1 + body.length];
    System.arraycopy(ModelManifest.DOMAIN.getBytes(StandardCharsets.US_ASCII), 0, message, 0, ModelManifest.DOMAIN.length());
    System.arraycopy(body, 0, message, ModelManifest.DOMAIN.length() + 1, body.length);
    assertEquals("verity/manifest/v1", ModelManifest.DOMAIN);
    OWNER.publicKey().verify(message, signature);
    byte[] otherDomain = Signing.message(InferenceReceipt.DOMAIN, Signing.body(signed));
    assertThrows(VerificationException.class, () -> OWNER.publicKey().verify(otherDomain, signature));
  }

  // ---- tampering ----

  private static CborValue altered(String field, CborValue.Map signed) {
    return switch (field) {
      case "v" -> new CborValue.Int(2);
      case "owner" -> new CborValue.Bytes(STRANGER.publicKey().toBytes());
      case "repository" -> new CborValue.Text("iris-classifier-2");
      case "version" -> new CborValue.Text("1.0.1");
      case "model" -> new CborValue.Bytes(Cid.raw(new byte[] {1}).toBytes());
      case "model_size" -> new CborValue.Int(signed.getLong("model_size") + 1);
      case "format" -> new CborValue.Text("tflite");
      case "opsets" -> CborValue.Map.builder().put("", 18).put("ai.onnx.ml", 3).build();
      case "inputs" -> new CborValue.Array(List.of(
          new TensorSpec("x", ElementType.FLOAT32, List.of(Dim.dynamic("N"), Dim.fixed(4))).toCbor()));
      case "outputs" -> new CborValue.Array(List.of(Fixtures.OUTPUTS.get(0).toCbor()));
      case "task", "license", "description" -> new CborValue.Text(signed.getText(field) + "!");
      case "tags" -> new CborValue.Array(List.of(new CborValue.Text("iris")));
      case "price" -> new CborValue.Int(0);
      case "modes" -> new CborValue.Array(List.of(new CborValue.Text("receipt")));
      case "visibility" -> new CborValue.Text(signed.getText("visibility").equals("public") ? "private" : "public");
      case "allow" -> new CborValue.Array(List.of(new CborValue.Bytes(NODE.address().toBytes())));
      case "created" -> new CborValue.Int(signed.getLong("created") + 1);
      case "publisher" -> new CborValue.Bytes(NODE.publicKey().toBytes());
      case "delegation" -> {
        CborValue.Map.Builder b = CborValue.Map.builder();
        CborValue.Map d = signed.getMap("delegation");
        d.entries().forEach((k, v) -> b.put(k, k.equals("expires") ? new CborValue.Int(d.getLong(k) + 1) : v));
        yield b.build();
      }
      case "signature" -> {
        byte[] s = signed.getBytes("signature");
        s[10] ^= 0x04;
        yield new CborValue.Bytes(s);
      }
      default -> throw new AssertionError("no alteration defined for manifest field '" + field + "'; add one");
    };
  }

  @Test
  void changingAnySingleFieldWhileKeepingTheSignatureIsRejected() {
    Set<String> caughtBySignatureChecks = new HashSet<>();
    Set<String> allFields = new HashSet<>();
    for (ModelManifest m : List.of(OWNED, DELEGATED)) {
      CborValue.Map signed = Cbor.decodeMap(m.encode());
      for (String field : signed.entries().keySet()) {
        allFields.add(field);
        Outcome o = offerManifest(Fixtures.withField(m.encode(), field, altered(field, signed)));
        assertNotEquals(Outcome.ACCEPTED, o, "changed '" + field + "' of " + m + " was accepted");
        if (o == Outcome.VERIFY_REJECTED) {
          caughtBySignatureChecks.add(field);
        }
      }
    }
    // Every field but the two with a single legal value was changed to another legal value and
    // caught by verify(): the signature (or the delegation) covers it.
    Set<String> expected = new HashSet<>(allFields);
    expected.removeAll(Set.of("v", "format"));
    assertEquals(expected, caughtBySignatureChecks);
    assertTrue(allFields.containsAll(Set.of("delegation", "allow", "signature", "publisher")));
  }

  @Test
  void flippingAnyByteOfTheEncodingIsRejected() {
    byte[] encoding = DELEGATED.encode();
    int reachedVerify = 0;
    for (int i = 0; i < encoding.length; i++) {
      for (int mask : new int[] {0x01, 0x80}) {
        byte[] b = encoding.clone();
        b[i] ^= (byte) mask;
        Outcome o = offerManifest(b);
        assertNotEquals(Outcome.ACCEPTED, o, "flip of byte " + i + " with mask " + mask + " was accepted");
        if (o == Outcome.VERIFY_REJECTED) {
          reachedVerify++;
        }
      }
    }
    assertTrue(reachedVerify > encoding.length / 4, "most flips that still decode must fail verify: " + reachedVerify);
  }

  @Test
  void everyTruncationFailsToDecode() {
    byte[] encoding = OWNED.encode();
    for (int n = 0; n < encoding.length; n++) {
      byte[] prefix = Arrays.copyOf(encoding, n);
      assertThrows(DecodingException.class, () -> ModelManifest.decode(prefix), "prefix " + n);
    }
  }

  @Property(tries = 300)
  void randomByteReplacementsAreRejected(
      @ForAll @IntRange(min = 0, max = 100_000) int position, @ForAll byte value) {
    byte[] b = OWNED.encode();
    int at = position % b.length;
    if (b[at] == value) {
      return;
    }
    b[at] = value;
    assertNotEquals(Outcome.ACCEPTED, offerManifest(b));
  }

  @Property(tries = 200)
  void randomBytesFailToDecode(@ForAll byte[] junk) {
    assertThrows(DecodingException.class, () -> ModelManifest.decode(junk));
  }

  // ---- delegation ----

  /** The delegated manifest re-published by {@code publisher} under {@code grant}. */
  private static byte[] publishedUnder(Delegation grant, dev.verity.core.crypto.Signer publisher) {
    return Fixtures.resigned(DELEGATED.encode(), ModelManifest.DOMAIN, Map.of(
        "delegation", grant.toCbor(),
        "publisher", new CborValue.Bytes(publisher.publicKey().toBytes())), publisher);
  }

  private static VerificationException verifyFails(byte[] manifest) {
    ModelManifest m = ModelManifest.decode(manifest);
    return assertThrows(VerificationException.class, m::verify);
  }

  @Test
  void aDelegateWithAValidGrantMayPublish() {
    assertEquals(Outcome.ACCEPTED, offerManifest(publishedUnder(Fixtures.grant(), DELEGATE)));
    Delegation expiringAtCreation = Delegation.create(OWNER, DELEGATE.publicKey(), "iris-classifier", CREATED);
    assertEquals(Outcome.ACCEPTED, offerManifest(publishedUnder(expiringAtCreation, DELEGATE)));
  }

  @Test
  void rejectsAGrantThatExpiredBeforeTheManifestWasCreated() {
    Delegation expired = Delegation.create(OWNER, DELEGATE.publicKey(), "iris-classifier", CREATED - 1);
    assertTrue(verifyFails(publishedUnder(expired, DELEGATE)).getMessage().contains("expired"));
    assertThrows(IllegalArgumentException.class,
        () -> builder().owner(OWNER.publicKey()).delegation(expired).sign(DELEGATE));
  }

  @Test
  void rejectsAGrantForAnotherRepository() {
    Delegation other = Delegation.create(OWNER, DELEGATE.publicKey(), "other-model", CREATED + DAY);
    assertTrue(verifyFails(publishedUnder(other, DELEGATE)).getMessage().contains("other-model"));
  }

  @Test
  void rejectsAGrantMadeByAnyoneButTheOwner() {
    Delegation forged = Delegation.create(STRANGER, DELEGATE.publicKey(), "iris-classifier", CREATED + DAY);
    assertTrue(verifyFails(publishedUnder(forged, DELEGATE)).getMessage().contains("not by the owner"));
  }

  @Test
  void rejectsAPublisherOtherThanTheDelegateNamedInTheGrant() {
    assertTrue(verifyFails(publishedUnder(Fixtures.grant(), NODE)).getMessage().contains("another key than the publisher"));
  }

  @Test
  void rejectsAGrantWhoseFieldsWereChangedAfterSigning() {
    CborValue.Map.Builder b = CborValue.Map.builder();
    Fixtures.grant().toCbor().entries().forEach((k, v) ->
        b.put(k, k.equals("delegate") ? new CborValue.Bytes(NODE.publicKey().toBytes()) : v));
    byte[] bytes = Fixtures.resigned(DELEGATED.encode(), ModelManifest.DOMAIN, Map.of(
        "delegation", b.build(), "publisher", new CborValue.Bytes(NODE.publicKey().toBytes())), NODE);
    verifyFails(bytes);
  }

  @Test
  void delegationsRoundTripThroughCbor() throws VerificationException {
    Delegation g = Fixtures.grant();
    Delegation back = Delegation.fromCbor(Cbor.decodeMap(Cbor.encode(g.toCbor())));
    back.verify(OWNER.publicKey(), "iris-classifier", CREATED + DAY);
    assertEquals(DELEGATE.publicKey(), back.delegate());
    assertThrows(VerificationException.class, () -> back.verify(OWNER.publicKey(), "iris-classifier", CREATED + DAY + 1));
    CborValue.Map extra = CborValue.Map.builder().put("note", "x").build();
    CborValue.Map.Builder b = CborValue.Map.builder();
    g.toCbor().entries().forEach(b::put);
    extra.entries().forEach(b::put);
    assertThrows(DecodingException.class, () -> Delegation.fromCbor(b.build()));
  }

  // ---- validation ----

  @ParameterizedTest
  @ValueSource(strings = {"", "Iris", "-iris", ".iris", "_iris", "iris/x", "iris classifier", "iris\n", "\u00efris",
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})
  void rejectsBadRepositoryNames(String name) {
    assertThrows(DecodingException.class, () -> builder().repository(name).sign(OWNER));
  }

  @ParameterizedTest
  @ValueSource(strings = {"a", "0", "iris_v2.onnx-x", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})
  void acceptsGoodRepositoryNames(String name) {
    assertEquals(name, builder().repository(name).sign(OWNER).repository());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "-1", ".1", "+1", "1 0", "1/0", "1.0\n", "1:0",
      "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"})
  void rejectsBadVersions(String version) {
    assertThrows(DecodingException.class, () -> builder().version(version).sign(OWNER));
  }

  @ParameterizedTest
  @ValueSource(strings = {"1.0.0+build.5", "V2", "2024-01-01_rc1", "0"})
  void acceptsGoodVersions(String version) {
    assertEquals(version, builder().version(version).sign(OWNER).version());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "-x", "a b", "#tag", "tag/x", "ttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt"})
  void rejectsBadTags(String tag) {
    assertThrows(DecodingException.class, () -> builder().tags(List.of(tag)).sign(OWNER));
  }

  @Test
  void rejectsMoreThan32Tags() {
    List<String> tags = new ArrayList<>();
    for (int i = 0; i < 33; i++) {
      tags.add("t" + i);
    }
    assertThrows(DecodingException.class, () -> builder().tags(tags).sign(OWNER));
    assertEquals(32, builder().tags(tags.subList(0, 32)).sign(OWNER).tags().size());
  }

  @Test
  void rejectsNegativeNumbers() {
    assertTrue(assertThrows(DecodingException.class, () -> builder().price(-1).sign(OWNER)).getMessage().contains("price"));
    assertThrows(DecodingException.class, () -> builder().model(Fixtures.MODEL, -1).sign(OWNER));
    assertEquals(Outcome.DECODE_REJECTED, offerManifest(Fixtures.resigned(OWNED.encode(), ModelManifest.DOMAIN,
        Map.of("created", new CborValue.Int(-5)), OWNER)));
  }

  @Test
  void rejectsAManifestAllowingNoVerificationMode() {
    DecodingException e = assertThrows(DecodingException.class, () -> builder().modes(Set.of()).sign(OWNER));
    assertTrue(e.getMessage().contains("at least one verification mode"), e.getMessage());
    assertThrows(DecodingException.class,
        () -> builder().modes(EnumSet.noneOf(VerificationMode.class)).sign(OWNER));
    assertEquals(Outcome.DECODE_REJECTED, offerManifest(Fixtures.resigned(OWNED.encode(), ModelManifest.DOMAIN,
        Map.of("modes", new CborValue.Array(List.of())), OWNER)));
  }

  @Test
  void rejectsUnknownOrRepeatedModes() {
    for (List<String> modes : List.of(List.of("receipt", "receipt"), List.of("magic"), List.of("RECEIPT"))) {
      byte[] b = Fixtures.resigned(OWNED.encode(), ModelManifest.DOMAIN, Map.of("modes",
          new CborValue.Array(modes.stream().map(s -> (CborValue) new CborValue.Text(s)).toList())), OWNER);
      assertEquals(Outcome.DECODE_REJECTED, offerManifest(b), modes.toString());
    }
  }

  @Test
  void privateManifestsCarryAnAllowListAndPublicOnesNone() {
    ModelManifest priv = builder().visibility(ModelManifest.Visibility.PRIVATE, List.of(STRANGER.address())).sign(OWNER);
    assertTrue(priv.allows(Optional.of(STRANGER.address())));
    assertFalse(priv.allows(Optional.of(NODE.address())));
    assertFalse(priv.allows(Optional.empty()));
    assertTrue(OWNED.allows(Optional.empty()));
    assertTrue(OWNED.allows(Optional.of(NODE.address())));
    ModelManifest privateToNobody = builder().visibility(ModelManifest.Visibility.PRIVATE, List.of()).sign(OWNER);
    assertFalse(privateToNobody.allows(Optional.of(OWNER.address())));
    DecodingException e = assertThrows(DecodingException.class,
        () -> builder().visibility(ModelManifest.Visibility.PUBLIC, List.of(STRANGER.address())).sign(OWNER));
    assertTrue(e.getMessage().contains("public model has no allow-list"), e.getMessage());
    assertEquals(Outcome.DECODE_REJECTED, offerManifest(Fixtures.resigned(OWNED.encode(), ModelManifest.DOMAIN,
        Map.of("visibility", new CborValue.Text("secret")), OWNER)));
  }

  @Test
  void rejectsAllowListsLongerThan1024OrHoldingNonAddresses() {
    List<dev.verity.core.crypto.Address> many = Collections.nCopies(1025, STRANGER.address());
    assertThrows(DecodingException.class,
        () -> builder().visibility(ModelManifest.Visibility.PRIVATE, many).sign(OWNER));
    byte[] b = Fixtures.resigned(OWNED.encode(), ModelManifest.DOMAIN, Map.of(
        "visibility", new CborValue.Text("private"),
        "allow", new CborValue.Array(List.of(new CborValue.Bytes(new byte[19])))), OWNER);
    assertEquals(Outcome.DECODE_REJECTED, offerManifest(b));
  }

  @Test
  void rejectsDuplicateTensorNamesAndMissingInputsOrOutputs() {
    TensorSpec x = Fixtures.INPUTS.get(0);
    assertTrue(assertThrows(DecodingException.class, () -> builder().inputs(List.of(x, x)).sign(OWNER))
        .getMessage().contains("appears twice"));
    TensorSpec y = Fixtures.OUTPUTS.get(0);
    assertThrows(DecodingException.class, () -> builder().outputs(List.of(y, y)).sign(OWNER));
    assertThrows(DecodingException.class, () -> builder().inputs(List.of()).sign(OWNER));
    assertThrows(DecodingException.class, () -> builder().outputs(List.of()).sign(OWNER));
  }

  @Test
  void rejectsUnknownFieldsAnywhere() {
    assertTrue(assertThrows(DecodingException.class, () -> ModelManifest.decode(Fixtures.resigned(OWNED.encode(),
        ModelManifest.DOMAIN, Map.of("extra", new CborValue.Int(1)), OWNER))).getMessage().contains("unknown field 'extra'"));
    CborValue.Map.Builder spec = CborValue.Map.builder();
    Fixtures.INPUTS.get(0).toCbor().entries().forEach(spec::put);
    spec.put("doc", "x");
    assertEquals(Outcome.DECODE_REJECTED, offerManifest(Fixtures.resigned(OWNED.encode(), ModelManifest.DOMAIN,
        Map.of("inputs", new CborValue.Array(List.of(spec.build()))), OWNER)));
    CborValue.Map.Builder grant = CborValue.Map.builder();
    Fixtures.grant().toCbor().entries().forEach(grant::put);
    grant.put("scope", "all");
    assertEquals(Outcome.DECODE_REJECTED, offerManifest(Fixtures.resigned(DELEGATED.encode(), ModelManifest.DOMAIN,
        Map.of("delegation", grant.build()), DELEGATE)));
  }

  @Test
  void rejectsOtherFormatVersionsAndModelFormats() {
    for (long v : new long[] {0, 2, -1}) {
      DecodingException e = assertThrows(DecodingException.class, () -> ModelManifest.decode(Fixtures.resigned(
          OWNED.encode(), ModelManifest.DOMAIN, Map.of("v", new CborValue.Int(v)), OWNER)));
      assertTrue(e.getMessage().contains("format version"), e.getMessage());
    }
    assertEquals(Outcome.DECODE_REJECTED, offerManifest(Fixtures.resigned(OWNED.encode(), ModelManifest.DOMAIN,
        Map.of("format", new CborValue.Text("tflite")), OWNER)));
  }

  @Test
  void rejectsMissingFieldsAndFieldsOfTheWrongType() {
    for (String field : Cbor.decodeMap(OWNED.encode()).entries().keySet()) {
      CborValue.Map.Builder b = CborValue.Map.builder();
      Cbor.decodeMap(OWNED.encode()).entries().forEach((k, v) -> {
        if (!k.equals(field)) {
          b.put(k, v);
        }
      });
      byte[] without = Cbor.encode(b.build());
      assertThrows(DecodingException.class, () -> ModelManifest.decode(without), "without '" + field + "'");
      byte[] wrongType = Fixtures.withField(OWNED.encode(), field, new CborValue.Bool(true));
      assertThrows(DecodingException.class, () -> ModelManifest.decode(wrongType), "'" + field + "' as a boolean");
    }
  }

  @Test
  void rejectsPublisherAndDelegationThatDisagree() {
    assertThrows(DecodingException.class, () -> builder().delegation(Fixtures.grant()).sign(OWNER));
    assertEquals(Outcome.DECODE_REJECTED, offerManifest(Fixtures.resigned(OWNED.encode(), ModelManifest.DOMAIN,
        Map.of("publisher", new CborValue.Bytes(DELEGATE.publicKey().toBytes())), DELEGATE)));
  }

  @Test
  void rejectsOverlongTextsAndBadOpsets() {
    assertThrows(DecodingException.class, () -> builder().description("d".repeat(4001)).sign(OWNER));
    assertThrows(DecodingException.class, () -> builder().license("l".repeat(201)).sign(OWNER));
    assertThrows(DecodingException.class, () -> builder().task("t".repeat(65)).sign(OWNER));
    assertThrows(DecodingException.class, () -> builder().opsets(Map.of("", 0L)).sign(OWNER));
  }

  @Test
  void validManifestsPassVerifyWithoutThrowing() {
    assertDoesNotThrow(() -> OWNED.verify());
    assertDoesNotThrow(() -> DELEGATED.verify());
  }

  @Test
  void rejectsAForgedManifestOnEveryCheckNotOnlyTheFirst() {
    ModelManifest good = ModelManifest.decode(OWNED.encode());
    assertDoesNotThrow(good::verify);
    CborValue.Map signed = Cbor.decodeMap(OWNED.encode());
    ModelManifest forged = ModelManifest.decode(Fixtures.withField(OWNED.encode(), "signature", altered("signature", signed)));
    assertThrows(VerificationException.class, forged::verify);
    assertThrows(VerificationException.class, forged::verify);
    assertDoesNotThrow(good::verify);
  }
}
