package siameseim.datasets.shards;

import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.conf.ParquetConfiguration;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.RecordConsumer;

/**
 * Writes {@link ImageRecord}s as rows of {@link ShardSchema}, and tells the {@link SortedEncodingsOutputFile} when
 * the last row has been written (parquet calls {@link #finalizeWrite()} after the last row group and before the
 * metadata).
 */
final class ImageRecordWriteSupport extends WriteSupport<ImageRecord> {
    private final SortedEncodingsOutputFile file;
    private RecordConsumer rows;

    private ImageRecordWriteSupport(SortedEncodingsOutputFile file) {
        this.file = file;
    }

    /** A writer of image rows into {@code file}. */
    static Builder builder(SortedEncodingsOutputFile file) {
        return new Builder(file);
    }

    @Override
    public WriteContext init(Configuration configuration) {
        return new WriteContext(ShardSchema.SCHEMA, Map.of());
    }

    @Override
    public WriteContext init(ParquetConfiguration configuration) {
        return new WriteContext(ShardSchema.SCHEMA, Map.of());
    }

    @Override
    public String getName() {
        return "siameseim";
    }

    @Override
    public void prepareForWrite(RecordConsumer recordConsumer) {
        rows = recordConsumer;
    }

    @Override
    public void write(ImageRecord r) {
        rows.startMessage();
        binary(0, "key", Binary.fromString(r.key()));
        int32(1, "label", r.label());
        binary(2, "wnid", Binary.fromString(r.wnid()));
        binary(3, "image", Binary.fromConstantByteArray(r.image()));
        int32(4, "width", r.width());
        int32(5, "height", r.height());
        binary(6, "source_format", Binary.fromString(r.sourceFormat()));
        rows.endMessage();
    }

    private void binary(int index, String name, Binary value) {
        rows.startField(name, index);
        rows.addBinary(value);
        rows.endField(name, index);
    }

    private void int32(int index, String name, int value) {
        rows.startField(name, index);
        rows.addInteger(value);
        rows.endField(name, index);
    }

    @Override
    public FinalizedWriteContext finalizeWrite() {
        file.holdRest();
        return super.finalizeWrite();
    }

    static final class Builder extends ParquetWriter.Builder<ImageRecord, Builder> {
        private final SortedEncodingsOutputFile file;

        private Builder(SortedEncodingsOutputFile file) {
            super(file);
            this.file = file;
        }

        @Override
        protected Builder self() {
            return this;
        }

        @Override
        protected WriteSupport<ImageRecord> getWriteSupport(Configuration conf) {
            return new ImageRecordWriteSupport(file);
        }

        @Override
        protected WriteSupport<ImageRecord> getWriteSupport(ParquetConfiguration conf) {
            return new ImageRecordWriteSupport(file);
        }
    }
}
