/**
 * The Avro schemas of Iceberg v2 manifests (`manifest_entry` with its
 * `data_file`) and manifest lists (`manifest_file`), field ids as the table
 * spec gives them (format/spec.md, "Manifests" and "Manifest Lists"), for an
 * unpartitioned spec (an empty `partition` struct). Optional fields are
 * `["null", T]` with a null default; maps with int keys are arrays of
 * key/value records with logical type `map` (spec Appendix A, Avro).
 */
import type { AvroField, AvroRecordSchema, AvroSchema } from './avroFile.js';

const optional = (name: string, type: AvroSchema, fieldId: number, doc?: string): AvroField => ({
  name,
  type: ['null', type],
  default: null,
  'field-id': fieldId,
  ...(doc ? { doc } : {}),
});
const required = (name: string, type: AvroSchema, fieldId: number, doc?: string): AvroField => ({ name, type, 'field-id': fieldId, ...(doc ? { doc } : {}) });

/** `map<int, V>` as Iceberg writes it in Avro: an array of `k<keyId>_v<valueId>` records. */
function intMap(keyId: number, valueId: number, value: AvroSchema): AvroSchema {
  return {
    type: 'array',
    logicalType: 'map',
    items: { type: 'record', name: `k${keyId}_v${valueId}`, fields: [required('key', 'int', keyId), required('value', value, valueId)] },
  };
}

/** `data_file` (field 2 of manifest_entry), v2, unpartitioned. */
function dataFileSchema(): AvroRecordSchema {
  return {
    type: 'record',
    name: 'r2',
    fields: [
      required('content', 'int', 134, 'Contents of the file: 0=data, 1=position deletes, 2=equality deletes'),
      required('file_path', 'string', 100, 'Location URI with FS scheme'),
      required('file_format', 'string', 101, 'File format name: avro, orc, or parquet'),
      required('partition', { type: 'record', name: 'r102', fields: [] }, 102, 'Partition data tuple, schema based on the partition spec'),
      required('record_count', 'long', 103, 'Number of records in the file'),
      required('file_size_in_bytes', 'long', 104, 'Total file size in bytes'),
      optional('column_sizes', intMap(117, 118, 'long'), 108, 'Map of column id to total size on disk'),
      optional('value_counts', intMap(119, 120, 'long'), 109, 'Map of column id to total count, including null and NaN'),
      optional('null_value_counts', intMap(121, 122, 'long'), 110, 'Map of column id to null value count'),
      optional('nan_value_counts', intMap(138, 139, 'long'), 137, 'Map of column id to number of NaN values in the column'),
      optional('lower_bounds', intMap(126, 127, 'bytes'), 125, 'Map of column id to lower bound'),
      optional('upper_bounds', intMap(129, 130, 'bytes'), 128, 'Map of column id to upper bound'),
      optional('key_metadata', 'bytes', 131, 'Encryption key metadata blob'),
      optional('split_offsets', { type: 'array', items: 'long', 'element-id': 133 }, 132, 'Splittable offsets'),
      optional('equality_ids', { type: 'array', items: 'int', 'element-id': 136 }, 135, 'Equality comparison field IDs'),
      optional('sort_order_id', 'int', 140, 'Sort order ID'),
      optional('referenced_data_file', 'string', 143, 'Fully qualified location of a data file that all deletes reference'),
    ],
  };
}

/** A manifest's rows (spec "Manifest Entry Fields"), v2. */
export function manifestEntrySchema(): AvroRecordSchema {
  return {
    type: 'record',
    name: 'manifest_entry',
    fields: [
      required('status', 'int', 0),
      optional('snapshot_id', 'long', 1),
      optional('sequence_number', 'long', 3),
      optional('file_sequence_number', 'long', 4),
      required('data_file', dataFileSchema(), 2),
    ],
  };
}

/** A manifest list's rows (spec "Manifest Lists"), v2. */
export function manifestFileSchema(): AvroRecordSchema {
  return {
    type: 'record',
    name: 'manifest_file',
    fields: [
      required('manifest_path', 'string', 500, 'Location URI with FS scheme'),
      required('manifest_length', 'long', 501, 'Total file size in bytes'),
      required('partition_spec_id', 'int', 502, 'Spec ID used to write'),
      required('content', 'int', 517, 'Contents of the manifest: 0=data, 1=deletes'),
      required('sequence_number', 'long', 515, 'Sequence number when the manifest was added'),
      required('min_sequence_number', 'long', 516, 'Lowest sequence number in the manifest'),
      required('added_snapshot_id', 'long', 503, 'Snapshot ID that added the manifest'),
      required('added_files_count', 'int', 504, 'Added entry count'),
      required('existing_files_count', 'int', 505, 'Existing entry count'),
      required('deleted_files_count', 'int', 506, 'Deleted entry count'),
      required('added_rows_count', 'long', 512, 'Added rows count'),
      required('existing_rows_count', 'long', 513, 'Existing rows count'),
      required('deleted_rows_count', 'long', 514, 'Deleted rows count'),
      optional(
        'partitions',
        {
          type: 'array',
          'element-id': 508,
          items: {
            type: 'record',
            name: 'r508',
            fields: [
              required('contains_null', 'boolean', 509, 'True if any file has a null partition value'),
              optional('contains_nan', 'boolean', 518, 'True if any file has a nan partition value'),
              optional('lower_bound', 'bytes', 510, 'Partition lower bound for all files'),
              optional('upper_bound', 'bytes', 511, 'Partition upper bound for all files'),
            ],
          },
        },
        507,
        'Summary for each partition',
      ),
      optional('key_metadata', 'bytes', 519, 'Encryption key metadata blob'),
    ],
  };
}

/** The entry statuses. */
export const ENTRY_STATUS = { EXISTING: 0, ADDED: 1, DELETED: 2 } as const;
/** data_file.content */
export const FILE_CONTENT = { DATA: 0, POSITION_DELETES: 1, EQUALITY_DELETES: 2 } as const;
/** The reserved field ids of a position delete file's columns. */
export const POSITION_DELETE_IDS = { file_path: 2147483546, pos: 2147483545 } as const;
