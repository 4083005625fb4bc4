package dev.verity.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.DecodingException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * ONNX lets the bodies of If, Loop and Scan leave the types of their inputs and outputs out (the
 * PyTorch exporter does, for example in Silero VAD v5); only the main graph's must be typed.
 */
class OnnxReaderSubgraphTest {

  /** o = If(c) then Identity(x) else Neg(x), with branch outputs that declare a name only. */
  private static byte[] ifWithUntypedBranchOutputs(boolean typedMainOutput) {
    ProtoWriter graph = new ProtoWriter();
    graph.messageField(1, Protos.node("If", List.of("c"), List.of("o"),
        branch("then_branch", "Identity"), branch("else_branch", "Neg")));
    graph.messageField(11, Protos.valueInfo("c", 9));
    graph.messageField(11, Protos.valueInfo("x", 1, 2));
    graph.messageField(12, typedMainOutput ? Protos.valueInfo("o", 1, 2) : nameOnly("o"));
    return Protos.model(graph);
  }

  private static ProtoWriter branch(String attribute, String op) {
    ProtoWriter body = new ProtoWriter();
    body.messageField(1, Protos.node(op, List.of("x"), List.of("t")));
    body.stringField(2, attribute);
    body.messageField(12, nameOnly("t"));
    ProtoWriter a = new ProtoWriter();
    a.stringField(1, attribute);
    a.messageField(6, body);
    a.int64Field(20, OnnxAttribute.Kind.GRAPH.code());
    return a;
  }

  private static ProtoWriter nameOnly(String name) {
    ProtoWriter v = new ProtoWriter();
    v.stringField(1, name);
    return v;
  }

  @Test
  void summarizesAModelWhoseSubgraphOutputsAreUntyped() {
    OnnxModelInfo info = OnnxReader.readInfo(ifWithUntypedBranchOutputs(true));
    assertEquals(List.of("c", "x"), info.inputs().stream().map(OnnxValueInfo::name).toList());
    assertEquals(List.of(OnnxValueInfo.tensor("o", ElementType.FLOAT, Dim.of(2))), info.outputs());
    assertTrue(info.opTypes().containsAll(List.of("If", "Identity", "Neg")), info.opTypes().toString());
  }

  @Test
  void stillRejectsAnUntypedOutputOfTheMainGraph() {
    DecodingException e = assertThrows(DecodingException.class,
        () -> OnnxReader.readInfo(ifWithUntypedBranchOutputs(false)));
    assertTrue(e.getMessage().contains("graph output 'o' declares no tensor element type"), e.getMessage());
  }
}
