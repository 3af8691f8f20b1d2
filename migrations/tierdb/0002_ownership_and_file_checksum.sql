ALTER TABLE `_tierdb_files` ADD `file_sha256` text;--> statement-breakpoint
ALTER TABLE `_tierdb_leases` ADD `token` text;--> statement-breakpoint
ALTER TABLE `_tierdb_leases` ADD `expires_at_ms` integer;--> statement-breakpoint
ALTER TABLE `_tierdb_leases` ADD `kernel_id` text;--> statement-breakpoint
ALTER TABLE `_tierdb_runs` ADD `token` text;