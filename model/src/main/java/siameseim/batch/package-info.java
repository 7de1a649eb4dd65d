/**
 * The batches the data pipeline hands to the trainers, as plain arrays (no tensor engine): the
 * datasets module fills them, the model module turns them into tensors at the trainer's edge.
 */
package siameseim.batch;
