import { pick, zipfPicker, type Rng } from './rng';

/**
 * Words BLIP-style captions are made of, most frequent first (pickers are Zipf-biased), so the synthetic
 * index has realistic posting lists: "a", "of", "man", "sitting" are everywhere, "lighthouse" is rare.
 */
export const SUBJECTS = [
  'man', 'woman', 'dog', 'cat', 'person', 'group of people', 'boy', 'girl', 'child', 'baby', 'couple', 'bird', 'horse',
  'family', 'cow', 'sheep', 'elephant', 'player', 'skateboarder', 'surfer', 'skier', 'puppy', 'kitten', 'duck', 'bear',
  'giraffe', 'zebra', 'chef', 'teenager', 'tourist', 'hiker', 'cyclist', 'runner', 'musician', 'dancer', 'photographer',
  'fisherman', 'farmer', 'student', 'teacher', 'bride', 'groom', 'grandmother', 'grandfather', 'squirrel', 'rabbit', 'goat',
  'pig', 'chicken', 'deer', 'fox', 'owl', 'parrot', 'swan', 'seagull', 'pigeon', 'butterfly', 'lion', 'tiger', 'monkey',
  'dolphin', 'turtle', 'crab', 'astronaut', 'soldier', 'police officer', 'nurse', 'doctor', 'clown', 'climber', 'vendor',
  'waiter', 'pilot', 'sailor', 'knight', 'robot', 'snowman', 'statue of a man', 'crowd', 'team',
] as const;

export const VERBS = [
  'sitting', 'standing', 'laying', 'walking', 'holding', 'riding', 'playing', 'looking', 'eating', 'posing', 'running',
  'jumping', 'sleeping', 'smiling', 'talking', 'drinking', 'waiting', 'carrying', 'wearing', 'flying', 'swimming', 'climbing',
  'reading', 'watching', 'leaning', 'resting', 'throwing', 'catching', 'cooking', 'dancing', 'painting', 'driving', 'pulling',
  'pushing', 'hiding', 'kneeling', 'crossing', 'chasing', 'feeding', 'hugging', 'floating', 'parked', 'surrounded',
] as const;

export const PREPOSITIONS = [
  'on', 'in', 'next to', 'in front of', 'on top of', 'near', 'under', 'with', 'by', 'at', 'behind', 'inside', 'over',
  'across', 'along', 'beside', 'outside', 'against', 'between', 'around',
] as const;

export const ADJECTIVES = [
  'white', 'black', 'red', 'blue', 'large', 'small', 'green', 'brown', 'yellow', 'old', 'young', 'wooden', 'big', 'little',
  'gray', 'orange', 'pink', 'purple', 'empty', 'crowded', 'colorful', 'tall', 'dark', 'bright', 'sunny', 'snowy', 'wet',
  'dirty', 'clean', 'metal', 'open', 'closed', 'striped', 'shiny', 'vintage', 'modern', 'tiny', 'giant', 'fluffy', 'busy',
  'quiet', 'rusty', 'golden', 'silver', 'frozen', 'foggy', 'rainy', 'cloudy', 'cozy', 'ancient',
] as const;

export const OBJECTS = [
  'table', 'street', 'couch', 'field', 'beach', 'bench', 'bed', 'grass', 'road', 'building', 'car', 'water', 'wall', 'chair',
  'tree', 'window', 'snow', 'room', 'kitchen', 'park', 'plate', 'sidewalk', 'train', 'bike', 'boat', 'sky', 'floor', 'door',
  'bus', 'truck', 'motorcycle', 'bicycle', 'plane', 'ocean', 'wave', 'sand', 'mountain', 'hill', 'lake', 'river', 'forest',
  'garden', 'fence', 'sign', 'clock', 'tower', 'bridge', 'house', 'church', 'castle', 'market', 'restaurant', 'bathroom',
  'bedroom', 'living room', 'office', 'desk', 'laptop', 'computer', 'keyboard', 'phone', 'book', 'cake', 'pizza', 'sandwich',
  'banana', 'apple', 'bowl', 'cup', 'mug', 'coffee', 'tea', 'wine glass', 'bottle', 'vase', 'flowers', 'plant', 'basket',
  'bag', 'suitcase', 'umbrella', 'kite', 'frisbee', 'ball', 'surfboard', 'skateboard', 'snowboard', 'skis', 'tennis racket',
  'baseball bat', 'guitar', 'piano', 'camera', 'hat', 'shirt', 'jacket', 'dress', 'tie', 'shoes', 'glasses', 'toy',
  'teddy bear', 'blanket', 'pillow', 'rug', 'mirror', 'lamp', 'television', 'fireplace', 'stairs', 'balcony', 'roof',
  'pool', 'fountain', 'statue', 'pier', 'dock', 'lighthouse', 'harbor', 'tent', 'campfire', 'sunset', 'cloud', 'moon',
  'rock', 'cliff', 'waterfall', 'desert', 'canyon', 'volcano', 'glacier', 'island', 'farm', 'barn', 'tractor', 'airport',
  'station', 'stadium', 'playground', 'museum', 'library', 'classroom', 'hospital', 'shop', 'bakery', 'cafe', 'bar',
  'concert', 'stage', 'parade', 'festival', 'wedding', 'birthday party', 'christmas tree', 'pumpkin', 'coins', 'rocket',
  'launch pad', 'helmet', 'spacesuit', 'saucer', 'spoon', 'fork', 'knife', 'tray', 'counter', 'sink', 'oven',
  'refrigerator', 'microwave', 'map', 'painting', 'poster', 'graffiti', 'tunnel', 'alley', 'crosswalk', 'traffic light',
  'parking lot', 'gas station', 'highway', 'trail', 'path', 'meadow', 'vineyard', 'orchard', 'jungle', 'cave',
] as const;

const TAGS = ['family', 'holiday', 'favorites', 'work', 'kids', 'travel', 'print', 'pets', 'friends', 'nature', 'food', 'archive'];
const USER_CAPTIONS = [
  "Grandma's 80th birthday",
  'First day of school',
  'Our new flat',
  'Sunday hike with the club',
  'Anna and Ben at the lake',
  'The old farmhouse before the renovation',
  'Christmas at my parents',
  'Rome, day three',
];
const CHAT_LINES = [
  'What breed is the dog?',
  'It looks like a border collie.',
  'Where was this taken?',
  'The architecture suggests southern Europe, possibly Lisbon.',
  'How many people are in the photo?',
  'There are four people standing near the fountain.',
];

const subject = zipfPicker(SUBJECTS, 1.05);
const verb = zipfPicker(VERBS, 1.0);
const prep = zipfPicker(PREPOSITIONS, 1.1);
const adjective = zipfPicker(ADJECTIVES, 0.9);
const object = zipfPicker(OBJECTS, 1.0);

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

function np(rng: Rng, noun: string, adjChance: number): string {
  const phrase = rng() < adjChance ? `${adjective(rng)} ${noun}` : noun;
  return `${article(phrase)} ${phrase}`;
}

/** One caption in the style of BLIP base ("a dog sitting on a red couch", "a close up of a plate of food"). */
export function makeCaption(rng: Rng): string {
  const r = rng();
  let text: string;
  if (r < 0.45) {
    text = `${np(rng, subject(rng), 0.3)} ${verb(rng)} ${prep(rng)} ${np(rng, object(rng), 0.45)}`;
  } else if (r < 0.6) {
    text = `${np(rng, subject(rng), 0.2)} ${verb(rng)} ${prep(rng)} ${np(rng, object(rng), 0.3)} with ${np(rng, object(rng), 0.4)}`;
  } else if (r < 0.7) {
    text = `a close up of ${np(rng, object(rng), 0.5)} on ${np(rng, object(rng), 0.3)}`;
  } else if (r < 0.78) {
    text = `a view of ${np(rng, object(rng), 0.4)} ${prep(rng)} ${np(rng, object(rng), 0.3)}`;
  } else if (r < 0.85) {
    text = `there is ${np(rng, subject(rng), 0.3)} that is ${verb(rng)} ${prep(rng)} the ${object(rng)}`;
  } else if (r < 0.9) {
    text = `a black and white photo of ${np(rng, subject(rng), 0.2)} ${verb(rng)} ${prep(rng)} ${np(rng, object(rng), 0.3)}`;
  } else if (r < 0.95) {
    text = `${np(rng, object(rng), 0.6)} ${prep(rng)} ${np(rng, object(rng), 0.4)}`;
  } else {
    text = `an aerial view of ${np(rng, object(rng), 0.5)} and ${np(rng, object(rng), 0.3)}`;
  }
  if (rng() < 0.08) text += ' in the background';
  return text;
}

export function makeUserCaption(rng: Rng): string {
  return pick(rng, USER_CAPTIONS);
}

export function makeTags(rng: Rng): string[] {
  const n = 1 + Math.floor(rng() * 3);
  return [...new Set(Array.from({ length: n }, () => pick(rng, TAGS)))];
}

export function makeChat(rng: Rng): string[] {
  const start = Math.floor(rng() * 3) * 2;
  return CHAT_LINES.slice(start, start + 2);
}

/** Words a person would type when looking for something, drawn like the captions (common words more often). */
export const searchWord = {
  subject: (rng: Rng): string => subject(rng).split(' ').pop()!,
  object: (rng: Rng): string => object(rng).split(' ').pop()!,
  adjective: (rng: Rng): string => adjective(rng),
  verb: (rng: Rng): string => verb(rng),
  /** Uniform, so rare words are tried as often as common ones. */
  any: (rng: Rng): string => pick(rng, [...SUBJECTS, ...OBJECTS, ...ADJECTIVES, ...VERBS]).split(' ').pop()!,
};
