package dev.verity.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model file with 1.5 GB of weights, more than the test JVM's heap: its summary must come from
 * the file's structure alone. The file is sparse, so the test neither writes nor stores 1.5 GB.
 */
class LargeModelFileTest {
  private static final long WEIGHT_BYTES = 1_500_000_000L;

  @Test
  void summarizesAModelWhoseWeightsExceedTheHeap(@TempDir Path dir) throws IOException {
    long floats = WEIGHT_BYTES / 4;
    ProtoWriter tensorHead = new ProtoWriter();
    tensorHead.int64Field(1, floats);
    tensorHead.int64Field(2, ElementType.FLOAT.code());
    tensorHead.stringField(8, "w");
    tensorHead.tag(9, ProtoReader.LEN);
    tensorHead.varint(WEIGHT_BYTES);

    ProtoWriter graphHead = new ProtoWriter();
    graphHead.messageField(1, Protos.node("Add", List.of("x", "w"), List.of("y")));
    graphHead.messageField(11, Protos.valueInfo("x", 1, floats));
    graphHead.messageField(12, Protos.valueInfo("y", 1, floats));
    graphHead.tag(5, ProtoReader.LEN);
    graphHead.varint(tensorHead.size() + WEIGHT_BYTES);
    graphHead.raw(tensorHead.toByteArray());

    ProtoWriter head = new ProtoWriter();
    head.int64Field(1, 8);
    ProtoWriter opset = new ProtoWriter();
    opset.stringField(1, "");
    opset.int64Field(2, 13);
    head.messageField(8, opset);
    head.tag(7, ProtoReader.LEN);
    head.varint(graphHead.size() + WEIGHT_BYTES);
    head.raw(graphHead.toByteArray());

    Path file = dir.resolve("large.onnx");
    long size = head.size() + WEIGHT_BYTES;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE, StandardOpenOption.SPARSE)) {
      ch.write(ByteBuffer.wrap(head.toByteArray()), 0);
      ch.write(ByteBuffer.wrap(new byte[1]), size - 1);
    }
    assertEquals(size, Files.size(file));

    OnnxModelInfo info = OnnxReader.readInfo(file);
    assertEquals(floats, info.parameterCount());
    assertEquals(size, info.fileSize());
    assertEquals(Set.of("Add"), info.opTypes());
    assertEquals(List.of("x"), info.inputs().stream().map(OnnxValueInfo::name).toList());
  }
}
