package dev.verity.exec;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.onnx.Dim;
import dev.verity.onnx.ElementType;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxNode;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Models outside the canonical operator set, and bad inputs, are refused with clear errors. */
class SupportTest {

  private static OnnxModel withOperator(String op, String domain) {
    return OnnxModel.builder()
        .input("x", ElementType.FLOAT, Dim.of(1), Dim.of(4))
        .output("y", ElementType.FLOAT, Dim.of(1), Dim.of(4))
        .node("Relu", List.of("x"), List.of("r"))
        .node(new OnnxNode("odd", op, domain, List.of("r"), List.of("y"), List.of()))
        .build();
  }

  @Test
  void refusesAModelWithAnOperatorOutsideTheSetNamingIt() {
    OnnxModel m = withOperator("Erf", "");
    UnsupportedOperatorException e =
        assertThrows(UnsupportedOperatorException.class, () -> CanonicalExecutor.checkSupported(m));
    assertEquals(List.of("Erf"), e.operators());
    assertTrue(e.getMessage().contains("Erf"), e.getMessage());
    assertThrows(UnsupportedOperatorException.class, () -> CanonicalExecutor.create(m));
  }

  @Test
  void refusesAnOperatorFromAnotherDomainEvenWithAKnownName() {
    UnsupportedOperatorException e = assertThrows(UnsupportedOperatorException.class,
        () -> CanonicalExecutor.checkSupported(withOperator("Relu", "com.example")));
    assertEquals(List.of("com.example:Relu"), e.operators());
  }

  @Test
  void acceptsTheBuiltinModels() {
    for (var m : Fixtures.builtins()) {
      assertDoesNotThrow(() -> CanonicalExecutor.checkSupported(Fixtures.onnx(m)), m.name());
    }
  }

  @Test
  void refusesMissingAndMisshapenInputsNamingThem() {
    OnnxModel m = withOperator("Sigmoid", "");
    try (CanonicalExecutor ex = CanonicalExecutor.create(m)) {
      ExecutionException missing = assertThrows(ExecutionException.class,
          () -> ex.run(NamedTensors.of("z", Tensor.ofFloats(new long[] {1, 4}, new float[4]))));
      assertTrue(missing.getMessage().contains("'x' is missing"), missing.getMessage());
      ExecutionException shape = assertThrows(ExecutionException.class,
          () -> ex.run(NamedTensors.of("x", Tensor.ofFloats(new long[] {1, 5}, new float[5]))));
      assertTrue(shape.getMessage().contains("shape"), shape.getMessage());
      ExecutionException type = assertThrows(ExecutionException.class,
          () -> ex.run(NamedTensors.of("x", Tensor.ofDoubles(new long[] {1, 4}, new double[4]))));
      assertTrue(type.getMessage().contains("float64"), type.getMessage());
    }
  }

  @Test
  void refusesAShapeAnOperatorCannotTakeNamingTheNode() {
    OnnxModel m = OnnxModel.builder()
        .input("x", ElementType.FLOAT, Dim.of(2), Dim.of(3))
        .output("y", ElementType.FLOAT, Dim.of(2), Dim.of(2))
        .initializer("w", new long[] {4, 2}, new float[8])
        .node("MatMul", List.of("x", "w"), List.of("y"))
        .build();
    try (CanonicalExecutor ex = CanonicalExecutor.create(m)) {
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> ex.run(NamedTensors.of("x", Tensor.ofFloats(new long[] {2, 3}, new float[6]))));
      assertTrue(e.getMessage().contains("MatMul") && e.getMessage().contains("inner"),
          e.getMessage());
    }
  }
}
