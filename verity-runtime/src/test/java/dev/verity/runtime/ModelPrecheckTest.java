package dev.verity.runtime;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Arrays;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** The structural pre-check on its own: every failure is a ModelLoadException with a reason. */
class ModelPrecheckTest {
  static void check(byte[] b) {
    ModelPrecheck.check(ByteBuffer.wrap(b), "test model");
  }

  /** Passes, or refuses with ModelLoadException; never any other exception. */
  static void passesOrRefuses(byte[] b) {
    try {
      check(b);
    } catch (ModelLoadException e) {
      assertTrue(e.getMessage().startsWith("cannot load test model: "), e.getMessage());
    }
  }

  @Test
  void acceptsTheTestModels() {
    check(TestModels.add());
    check(TestModels.mixed());
    check(TestModels.identities());
  }

  @Property(tries = 2000)
  void neverFailsOtherwiseOnRandomBytes(@ForAll @Size(max = 512) byte[] junk) {
    passesOrRefuses(junk);
  }

  @Property(tries = 2000)
  void neverFailsOtherwiseOnMutatedModels(@ForAll @IntRange(min = 0, max = 10_000) int at, @ForAll byte value,
      @ForAll @IntRange(min = 0, max = 10_000) int cut) {
    byte[] model = TestModels.mixed();
    model[at % model.length] = value;
    passesOrRefuses(Arrays.copyOf(model, Math.min(model.length, cut)));
  }

  @Test
  void refusesAProtobufWithoutAGraph() {
    byte[] noGraph = new TinyOnnx.Proto().varint(1, 8).string(2, "x").toBytes();
    var e = assertThrows(ModelLoadException.class, () -> check(noGraph));
    assertTrue(e.getMessage().contains("no graph"), e.getMessage());
  }

  @Test
  void refusesOverlongVarints() {
    byte[] b = new byte[12];
    Arrays.fill(b, (byte) 0xff);
    var e = assertThrows(ModelLoadException.class, () -> check(b));
    assertTrue(e.getMessage().contains("longer than 10 bytes"), e.getMessage());
  }
}
