CREATE TABLE `_tierdb_iceberg_files` (
	`path` text PRIMARY KEY NOT NULL,
	`table_name` text NOT NULL,
	`snapshot_id` integer NOT NULL,
	`sequence_number` integer NOT NULL,
	`stats_json` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `_tierdb_iceberg_refs` (
	`snapshot_id` integer NOT NULL,
	`path` text NOT NULL,
	PRIMARY KEY(`snapshot_id`, `path`)
);
--> statement-breakpoint
CREATE INDEX `_tierdb_iceberg_refs_path_idx` ON `_tierdb_iceberg_refs` (`path`);--> statement-breakpoint
CREATE TABLE `_tierdb_iceberg_snapshots` (
	`snapshot_id` integer PRIMARY KEY NOT NULL,
	`table_name` text NOT NULL,
	`sequence_number` integer NOT NULL,
	`parent_id` integer,
	`schema_id` integer NOT NULL,
	`metadata_version` integer NOT NULL,
	`manifest_version` integer NOT NULL,
	`timestamp_ms` integer NOT NULL,
	`manifest_list` text NOT NULL,
	`summary_json` text NOT NULL,
	`objects_json` text NOT NULL,
	`commit_json` text,
	`state` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `_tierdb_iceberg_snapshots_table_idx` ON `_tierdb_iceberg_snapshots` (`table_name`,`state`,`sequence_number`);--> statement-breakpoint
CREATE TABLE `_tierdb_iceberg_tables` (
	`table_name` text PRIMARY KEY NOT NULL,
	`table_uuid` text NOT NULL,
	`location` text NOT NULL,
	`columns_json` text NOT NULL,
	`schemas_json` text NOT NULL,
	`last_column_id` integer NOT NULL,
	`last_sequence_number` integer NOT NULL,
	`metadata_version` integer NOT NULL,
	`manifest_version` integer NOT NULL,
	`updated_at_ms` integer NOT NULL
);
