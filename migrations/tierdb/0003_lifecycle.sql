CREATE TABLE `_tierdb_retention` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`table_name` text NOT NULL,
	`run_id` integer NOT NULL,
	`cutoff_ms` integer NOT NULL,
	`files` integer NOT NULL,
	`rows` integer NOT NULL,
	`bytes` integer NOT NULL,
	`min_time_ms` integer,
	`max_time_ms` integer,
	`paths_json` text NOT NULL,
	`at_ms` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `_tierdb_runs` ADD `kind` text DEFAULT 'archive' NOT NULL;