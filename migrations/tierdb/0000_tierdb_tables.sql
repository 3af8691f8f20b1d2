CREATE TABLE `_tierdb_checkpoints` (
	`name` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `_tierdb_files` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`table_name` text NOT NULL,
	`path` text NOT NULL,
	`partition` text NOT NULL,
	`rows` integer NOT NULL,
	`min_time_ms` integer NOT NULL,
	`max_time_ms` integer NOT NULL,
	`min_key` blob,
	`max_key` blob,
	`bytes` integer NOT NULL,
	`checksum` text NOT NULL,
	`schema_json` text NOT NULL,
	`state` text NOT NULL,
	`run_id` integer,
	`created_at_ms` integer NOT NULL,
	`visible_after_ms` integer,
	`retired_at_ms` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `_tierdb_files_path_unique` ON `_tierdb_files` (`path`);--> statement-breakpoint
CREATE INDEX `_tierdb_files_table_idx` ON `_tierdb_files` (`table_name`,`state`,`min_time_ms`);--> statement-breakpoint
CREATE TABLE `_tierdb_leases` (
	`name` text PRIMARY KEY NOT NULL,
	`owner_pid` integer NOT NULL,
	`host` text NOT NULL,
	`started_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `_tierdb_meta` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `_tierdb_runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`started_at_ms` integer NOT NULL,
	`ended_at_ms` integer,
	`status` text NOT NULL,
	`pid` integer NOT NULL,
	`dry_run` integer DEFAULT 0 NOT NULL,
	`report_json` text,
	`error` text
);
