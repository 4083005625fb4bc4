package dev.verity.node;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.verity.core.crypto.Address;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.VerificationMode;
import dev.verity.protocol.tensor.Dim;
import dev.verity.protocol.tensor.TensorSpec;
import java.io.IOException;
import java.util.List;

/** A manifest's fields as JSON, for people and tools to read. The signed CBOR stays the authority. */
final class ManifestView {
  private ManifestView() {}

  static void write(JsonGenerator g, ModelManifest m) throws IOException {
    g.writeStringField("owner", m.ownerAddress().toString());
    g.writeStringField("owner_key", m.owner().toString());
    g.writeStringField("repository", m.repository());
    g.writeStringField("version", m.version());
    g.writeStringField("model_cid", m.model().toString());
    g.writeNumberField("model_size", m.modelSize());
    g.writeStringField("format", m.format());
    g.writeObjectFieldStart("opsets");
    for (var e : m.opsets().entrySet()) {
      g.writeNumberField(e.getKey().isEmpty() ? "ai.onnx" : e.getKey(), e.getValue());
    }
    g.writeEndObject();
    specs(g, "inputs", m.inputs());
    specs(g, "outputs", m.outputs());
    g.writeStringField("task", m.task());
    g.writeStringField("license", m.license());
    g.writeStringField("description", m.description());
    g.writeArrayFieldStart("tags");
    for (String t : m.tags()) {
      g.writeString(t);
    }
    g.writeEndArray();
    g.writeNumberField("price", m.price());
    g.writeArrayFieldStart("modes");
    for (VerificationMode mode : m.modes()) {
      g.writeString(mode.wireName());
    }
    g.writeEndArray();
    g.writeStringField("visibility", m.visibility().name().toLowerCase(java.util.Locale.ROOT));
    g.writeArrayFieldStart("allow");
    for (Address a : m.allowList()) {
      g.writeString(a.toString());
    }
    g.writeEndArray();
    g.writeStringField("created", java.time.Instant.ofEpochMilli(m.createdAtMillis()).toString());
    g.writeStringField("publisher", m.publisher().toString());
  }

  private static void specs(JsonGenerator g, String field, List<TensorSpec> specs) throws IOException {
    g.writeArrayFieldStart(field);
    for (TensorSpec s : specs) {
      g.writeStartObject();
      g.writeStringField("name", s.name());
      g.writeStringField("type", s.type().wireName());
      g.writeArrayFieldStart("shape");
      for (Dim d : s.shape()) {
        if (d.isDynamic()) {
          g.writeString(d.symbol().isEmpty() ? "?" : d.symbol());
        } else {
          g.writeNumber(d.size());
        }
      }
      g.writeEndArray();
      g.writeEndObject();
    }
    g.writeEndArray();
  }
}
