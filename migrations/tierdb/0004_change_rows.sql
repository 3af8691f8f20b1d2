CREATE TABLE `_tierdb_deletes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`table_name` text NOT NULL,
	`path` text NOT NULL,
	`key` blob NOT NULL,
	`op` text NOT NULL,
	`manifest_version` integer NOT NULL,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `_tierdb_deletes_path_key` ON `_tierdb_deletes` (`path`,`key`);--> statement-breakpoint
CREATE INDEX `_tierdb_deletes_table_idx` ON `_tierdb_deletes` (`table_name`);--> statement-breakpoint
CREATE TABLE `_tierdb_erasures` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`table_name` text NOT NULL,
	`run_id` integer NOT NULL,
	`predicate_json` text NOT NULL,
	`hot_rows` integer NOT NULL,
	`cold_rows` integer NOT NULL,
	`files_json` text NOT NULL,
	`backups_json` text NOT NULL,
	`status` text NOT NULL,
	`started_at_ms` integer NOT NULL,
	`ended_at_ms` integer
);
