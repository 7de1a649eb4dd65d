package siameseim.datasets.shards;

import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;

/** The Parquet schema of dataset shards (docs/dataset-format.md). */
public final class ShardSchema {
    public static final MessageType SCHEMA = Types.buildMessage()
            .required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("key")
            .required(PrimitiveTypeName.INT32).named("label")
            .required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("wnid")
            .required(PrimitiveTypeName.BINARY).named("image")
            .required(PrimitiveTypeName.INT32).named("width")
            .required(PrimitiveTypeName.INT32).named("height")
            .required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("source_format")
            .named("siameseim_image");

    private ShardSchema() {}
}
