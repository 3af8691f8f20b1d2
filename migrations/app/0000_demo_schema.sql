CREATE TABLE `audit_logs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`target` text,
	`detail` text,
	`ip` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_logs_created_at_idx` ON `audit_logs` (`created_at`);--> statement-breakpoint
CREATE TABLE `media_signatures` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`msg_id` integer,
	`media_type` text NOT NULL,
	`sha256` text NOT NULL,
	`phash` blob,
	`size_bytes` integer,
	`width` integer,
	`height` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `media_signatures_created_at_idx` ON `media_signatures` (`created_at`);--> statement-breakpoint
CREATE INDEX `media_signatures_sha256_idx` ON `media_signatures` (`sha256`);--> statement-breakpoint
CREATE TABLE `messages` (
	`msg_id` integer PRIMARY KEY NOT NULL,
	`from_username` text NOT NULL,
	`to_username` text NOT NULL,
	`content` text,
	`create_time` integer NOT NULL,
	`msg_type` integer NOT NULL,
	`is_chatroom_msg` integer DEFAULT 0 NOT NULL,
	`chatroom` text,
	`chatroom_sender` text,
	`desc` text,
	`source` text,
	`guid` text,
	`notify_type` integer,
	`extra_fields` text
);
--> statement-breakpoint
CREATE INDEX `messages_create_time_idx` ON `messages` (`create_time`);--> statement-breakpoint
CREATE INDEX `messages_chatroom_time_idx` ON `messages` (`chatroom`,`create_time`);--> statement-breakpoint
CREATE TABLE `rule_logs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`rule_id` integer NOT NULL,
	`rule_name` text NOT NULL,
	`msg_id` integer,
	`matched` integer NOT NULL,
	`action` text,
	`duration_ms` real,
	`detail` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `rule_logs_created_at_idx` ON `rule_logs` (`created_at`);--> statement-breakpoint
CREATE TABLE `task_queue` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`task_type` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`priority` integer DEFAULT 0 NOT NULL,
	`msg_id` integer,
	`payload` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer
);
--> statement-breakpoint
CREATE INDEX `task_queue_created_at_idx` ON `task_queue` (`created_at`);--> statement-breakpoint
CREATE INDEX `task_queue_status_idx` ON `task_queue` (`status`,`created_at`);