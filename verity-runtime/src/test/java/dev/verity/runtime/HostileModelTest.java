package dev.verity.runtime;

import static dev.verity.protocol.tensor.ElementType.FLOAT32;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Malformed and hostile model files end in ModelLoadException, never in a crash or a hang. */
class HostileModelTest {
  static final OnnxRuntimeEngine ENGINE = OnnxRuntimeEngine.create();

  static ModelLoadException refused(byte[] model) {
    return assertThrows(ModelLoadException.class, () -> ENGINE.load(ModelSource.bytes(model), TestModels.CONFIG).close());
  }

  static void assertMentions(Exception e, String text) {
    assertTrue(e.getMessage().contains(text), e.getMessage());
  }

  /** Loads if the bytes happen to form a valid model; anything else must be ModelLoadException. */
  static void loadsOrIsRefused(byte[] model) {
    try (LoadedModel m = ENGINE.load(ModelSource.bytes(model), TestModels.CONFIG)) {
      m.signature();
    } catch (ModelLoadException expected) {
      // refused with a message: fine
    }
  }

  @Test
  void refusesEmptyFile() {
    assertMentions(refused(new byte[0]), "empty");
  }

  @Test
  void refusesTextThatIsNotAModel() {
    assertMentions(refused("<html>not found</html>".getBytes(java.nio.charset.StandardCharsets.US_ASCII)), "cannot load");
  }

  @Test
  void refusesEveryTruncationOfAValidModel() {
    byte[] model = TestModels.mixed();
    for (int n = 0; n < model.length; n++) {
      byte[] prefix = Arrays.copyOf(model, n);
      assertThrows(ModelLoadException.class, () -> ENGINE.load(ModelSource.bytes(prefix), TestModels.CONFIG).close(), "prefix " + n);
    }
  }

  @Property(tries = 200)
  void refusesRandomBytes(@ForAll @Size(min = 1, max = 4096) byte[] junk) {
    // Random bytes almost never form a protobuf with a graph; if they do, the runtime still refuses.
    loadsOrIsRefused(junk);
  }

  @Property(tries = 300)
  void survivesMutatedModels(@ForAll("mutations") int[] flips) {
    byte[] model = TestModels.mixed();
    Random r = new Random(Arrays.hashCode(flips));
    for (int f : flips) {
      model[Math.floorMod(f, model.length)] = (byte) r.nextInt(256);
    }
    loadsOrIsRefused(model);
  }

  @Provide
  Arbitrary<int[]> mutations() {
    return Arbitraries.integers().between(0, Integer.MAX_VALUE).array(int[].class).ofMinSize(1).ofMaxSize(6);
  }

  @Property(tries = 50)
  void survivesModelsCutAnywhereAndPaddedWithJunk(@ForAll @IntRange(min = 0, max = 400) int cut, @ForAll @Size(max = 64) byte[] tail) {
    byte[] model = TestModels.mixed();
    byte[] hostile = Arrays.copyOf(model, Math.min(cut, model.length) + tail.length);
    System.arraycopy(tail, 0, hostile, Math.min(cut, model.length), tail.length);
    loadsOrIsRefused(hostile);
  }

  @Test
  void refusesModelDeclaringAnAbsurdInputBeforeRunningIt() {
    byte[] model = TinyOnnx.model(13)
        .input("x", FLOAT32, 1_000_000L, 1_000_000L, 1_000L)
        .output("y", FLOAT32, 1_000_000L, 1_000_000L, 1_000L)
        .node("Identity", List.of("x"), List.of("y"))
        .bytes();
    ModelLoadException e = refused(model);
    assertMentions(e, "input 'x' with shape [1000000, 1000000, 1000]");
    assertMentions(e, "limit");
  }

  @Test
  void refusesInitializerDeclaringMoreElementsThanTheFileHolds() {
    byte[] model = TinyOnnx.model(13)
        .input("x", FLOAT32, 1)
        .output("y", FLOAT32, 100_000L, 100_000L)
        .initializer("w", FLOAT32, new long[] {100_000, 100_000}, new byte[4])
        .node("Add", List.of("x", "w"), List.of("y"))
        .bytes();
    assertMentions(refused(model), "tensor 'w' declares 10000000000 elements");
  }

  @Test
  void refusesConstantNodeDeclaringAbsurdDimensions() {
    byte[] huge = TinyOnnx.tensor("c", FLOAT32, new long[] {1L << 40, 1L << 40}, new byte[0], null);
    byte[] model = TinyOnnx.model(13)
        .input("x", FLOAT32, 1)
        .output("y", FLOAT32, 1)
        .node("Constant", List.of(), List.of("c"), TinyOnnx.tensorAttribute("value", huge))
        .node("Identity", List.of("x"), List.of("y"))
        .bytes();
    assertMentions(refused(model), "tensor 'c' declares");
  }

  @Test
  void refusesNegativeDimensions() {
    byte[] model = TinyOnnx.model(13)
        .input("x", FLOAT32, 1)
        .output("y", FLOAT32, 1)
        .initializer("w", FLOAT32, new long[] {-1}, new byte[4])
        .node("Add", List.of("x", "w"), List.of("y"))
        .bytes();
    assertMentions(refused(model), "negative dimension");
  }

  @Test
  void refusesExternalDataThatCouldReadHostFiles(@TempDir Path dir) throws Exception {
    byte[] model = TinyOnnx.model(13)
        .input("x", FLOAT32, 4)
        .output("y", FLOAT32, 4)
        .externalInitializer("w", FLOAT32, new long[] {4}, "../../../../etc/hostname")
        .node("Add", List.of("x", "w"), List.of("y"))
        .bytes();
    assertMentions(refused(model), "external file");
    Path file = dir.resolve("m.onnx");
    Files.write(file, model);
    var e = assertThrows(ModelLoadException.class, () -> ENGINE.load(ModelSource.file(file), TestModels.CONFIG));
    assertMentions(e, "external file");
  }

  @Test
  void refusesSubgraphsNestedAbsurdlyDeep() {
    byte[] graph = new TinyOnnx.Proto().string(2, "leaf").toBytes();
    for (int i = 0; i < ModelPrecheck.MAX_GRAPH_DEPTH + 5; i++) {
      byte[] node = TinyOnnx.nodeProto("If", List.of("c"), List.of("o"), TinyOnnx.graphAttribute("then_branch", graph));
      graph = new TinyOnnx.Proto().bytes(1, node).string(2, "g" + i).toBytes();
    }
    assertMentions(refused(TinyOnnx.modelWith(graph, 13)), "nested more than");
  }

  @Test
  void refusesLengthFieldsRunningPastTheEnd() {
    byte[] model = TestModels.add();
    // Field 7 (graph) claims far more bytes than follow.
    byte[] lying = Arrays.copyOf(model, model.length);
    int graphKey = indexOf(lying, (byte) 0x3a);
    lying[graphKey + 1] = (byte) 0x7f;
    assertMentions(refused(lying), "not a well-formed ONNX protobuf");
  }

  @Test
  void refusesModelWithAnOperatorTheRuntimeDoesNotKnow() {
    byte[] model = TinyOnnx.model(13)
        .input("x", FLOAT32, 1)
        .output("y", FLOAT32, 1)
        .node("NoSuchOperator", List.of("x"), List.of("y"))
        .bytes();
    assertMentions(refused(model), "ONNX Runtime refused it");
  }

  @Test
  void refusesMissingFileAndDirectory(@TempDir Path dir) {
    var missing = assertThrows(ModelLoadException.class,
        () -> ENGINE.load(ModelSource.file(dir.resolve("absent.onnx")), TestModels.CONFIG));
    assertMentions(missing, "absent.onnx");
    assertThrows(ModelLoadException.class, () -> ENGINE.load(ModelSource.file(dir), TestModels.CONFIG));
  }

  @Test
  void refusesModelsWithUnsupportedElementTypes() {
    // float16 (ONNX type 10) cannot be carried by Verity tensors.
    byte[] valueInfo = new TinyOnnx.Proto().string(1, "h").bytes(2,
        new TinyOnnx.Proto().bytes(1, new TinyOnnx.Proto().varint(1, 10).bytes(2,
            new TinyOnnx.Proto().bytes(1, new TinyOnnx.Proto().varint(1, 2).toBytes()).toBytes()).toBytes()).toBytes()).toBytes();
    byte[] node = TinyOnnx.nodeProto("Identity", List.of("h"), List.of("o"));
    byte[] graph = new TinyOnnx.Proto().bytes(1, node).string(2, "g").bytes(11, valueInfo)
        .bytes(12, new TinyOnnx.Proto().string(1, "o").bytes(2,
            new TinyOnnx.Proto().bytes(1, new TinyOnnx.Proto().varint(1, 10).toBytes()).toBytes()).toBytes())
        .toBytes();
    assertMentions(refused(TinyOnnx.modelWith(graph, 13)), "element type float16");
  }

  private static int indexOf(byte[] a, byte b) {
    for (int i = 0; i < a.length; i++) {
      if (a[i] == b) {
        return i;
      }
    }
    throw new AssertionError("byte not found");
  }
}
